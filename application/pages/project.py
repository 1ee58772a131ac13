"""The project page: progress while it separates, then the mixer; and deleting it."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from business.selectors import plan_limits_for_user
from domain.mix import mixer_ranges
from domain.models import Project
from domain.selectors import project_get_for_user, stems_ordered
from domain.services import project_delete as project_delete_service


@login_required
def project_detail(request: HttpRequest, project_id) -> HttpResponse:
    project = project_get_for_user(user=request.user, project_id=project_id)
    limits = plan_limits_for_user(user=request.user)
    ready = project.status == Project.Status.READY
    ranges = mixer_ranges()
    return render(
        request,
        "projects/detail.html",
        {
            "project": project,
            "jobs": list(project.jobs.all()),
            "stems": stems_ordered(project) if ready else [],
            "export_formats": list(limits.export_formats),
            "api_url": reverse("api:project-detail", kwargs={"project_id": project.id}),
            "ws_path": f"/ws/projects/{project.id}/",
            # The faders' bounds come from the same figures the export API validates with:
            # rendered into the inputs' min/max/step, and whole as JSON for the mixer's JS.
            "mixer_ranges": ranges,
            "mixer_ranges_json": json.dumps(ranges),
        },
    )


@login_required
@require_POST
def project_delete(request: HttpRequest, project_id) -> HttpResponse:
    project = project_get_for_user(user=request.user, project_id=project_id)
    name = project.name
    project_delete_service(project=project)
    messages.success(request, f"“{name}” was deleted.")
    return redirect("library")
