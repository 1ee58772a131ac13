"""REST API v1: one APIView per operation; a view validates, authorises, calls one service.

One module per resource; every view is importable from here.
"""

from application.api.views.account import AccountApi, PlansApi
from application.api.views.billing import CheckoutCreateApi, PortalCreateApi
from application.api.views.exports import ExportCreateApi, ExportDetailApi, ExportDownloadApi
from application.api.views.karaoke import AnalysisApi, LyricsApi
from application.api.views.mix import MixPresetDetailApi, MixPresetsApi, MixStateApi
from application.api.views.projects import ProjectDetailApi, ProjectsApi
from application.api.views.remix import (
    RemixDetailApi,
    RemixDownloadApi,
    RemixesApi,
    RemixStemDownloadApi,
    RemixStemPeaksApi,
    RemixStemPreviewApi,
    StyleAudioApi,
    StyleDetailApi,
    StyleGrainAudioApi,
    StylesApi,
)
from application.api.views.separation import EnginesApi, ProjectSeparateApi
from application.api.views.stems import StemDownloadApi, StemPeaksApi, StemPreviewApi, StemsArchiveApi

__all__ = [
    "AccountApi",
    "EnginesApi",
    "ProjectSeparateApi",
    "AnalysisApi",
    "LyricsApi",
    "CheckoutCreateApi",
    "PlansApi",
    "PortalCreateApi",
    "ExportCreateApi",
    "ExportDetailApi",
    "ExportDownloadApi",
    "MixPresetDetailApi",
    "MixPresetsApi",
    "MixStateApi",
    "ProjectDetailApi",
    "ProjectsApi",
    "RemixDetailApi",
    "RemixDownloadApi",
    "RemixesApi",
    "RemixStemDownloadApi",
    "RemixStemPeaksApi",
    "RemixStemPreviewApi",
    "StyleAudioApi",
    "StyleDetailApi",
    "StyleGrainAudioApi",
    "StylesApi",
    "StemDownloadApi",
    "StemPeaksApi",
    "StemPreviewApi",
    "StemsArchiveApi",
]
