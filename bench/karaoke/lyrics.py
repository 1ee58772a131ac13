"""The lyrics the test songs sing: twelve short lines per language, written for this benchmark.

Plain, original song lines (no borrowed lyrics): everyday words, no digits, no hyphenated words,
so the reference text is the same however a transcriber writes numbers or compounds. A song sings
its language's lines in order from a line its seed picks, wrapping round (a long song repeats
them, as a chorus would).
"""

from __future__ import annotations

LYRICS: dict[str, tuple[str, ...]] = {
    "en": (
        "I walk along the river in the morning light",
        "The city hums a quiet song tonight",
        "We ran across the open field",
        "Beneath a silver sky so wide",
        "Hold on to the summer rain",
        "And never say goodbye again",
        "Every window shines like gold",
        "Take my hand and follow me",
        "The wind is singing through the trees",
        "I hear your footsteps on the road",
        "We will dance until the stars come down",
        "Open the door and let the music play",
    ),
    "pt": (
        "Eu caminho pela praia quando o sol nasce",
        "A cidade canta baixinho para mim",
        "Corremos juntos pelo campo aberto",
        "Debaixo de um céu de prata",
        "Segura a minha mão e vem comigo",
        "A chuva de verão não vai parar",
        "Cada janela brilha como ouro",
        "O vento canta entre as árvores",
        "Eu ouço os seus passos na estrada",
        "Vamos dançar até o amanhecer",
        "Abre a porta e deixa a música entrar",
        "Eu vou esperar você voltar",
    ),
}
"""Lines per Whisper language code ("en", "pt" for Brazilian Portuguese)."""
