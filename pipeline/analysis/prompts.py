"""Prompts. The default instructions are in Spanish and editable: a run stores the
instructions it used with every result.

The system message is the (editable) instructions followed by a fixed, non-editable
block that spells out the JSON schema, so that a user editing the instructions cannot
break the output contract.
"""

from __future__ import annotations

import json

from pipeline.core import format_timecode

DEFAULT_INSTRUCTIONS = """\
Eres un asistente de análisis audiovisual para investigadoras e investigadores de medios \
de comunicación que estudian la intolerancia y la discriminación en contenidos dirigidos \
a públicos jóvenes.

Recibes varios fotogramas de un mismo plano de un vídeo, en orden temporal, y la \
transcripción de lo que se dice durante ese plano (puede estar vacía o contener errores \
de reconocimiento).

1. Describe el plano de forma objetiva y concreta: qué se ve, dónde ocurre, quién aparece \
(sin identificar a personas reales por su nombre salvo que aparezca escrito en pantalla), \
qué hacen, qué objetos son relevantes y qué texto aparece en pantalla.
2. Resume lo que se dice, sus temas y el tono.
3. Evalúa si el plano contiene discursos o representaciones de intolerancia o \
discriminación (racismo, xenofobia, machismo, LGTBIfobia, antisemitismo, islamofobia, \
aporofobia, capacitismo, antigitanismo, discurso de odio u otros): estereotipos, \
deshumanización, burla, incitación, desinformación sobre un colectivo. Indica el tipo, \
el colectivo afectado, la evidencia concreta (qué se ve o se oye) y la gravedad \
(none, low, medium, high). Si no hay indicios, present=false y severity="none". \
No inventes: si algo no se puede saber, dilo o deja la lista vacía.

Escribe los textos en español."""

_CONTRACT = """\
Responde ÚNICAMENTE con un objeto JSON válido, sin texto antes ni después y sin bloques \
de código, que siga exactamente este esquema JSON (todas las claves son obligatorias; \
usa null o listas vacías cuando no aplique):
{schema}"""

CORRECTION = """\
Tu respuesta anterior no es válida: {reason}.
Devuelve de nuevo la respuesta completa como UN único objeto JSON que siga el esquema, \
sin texto adicional ni bloques de código."""

VIDEO_SUMMARY_INSTRUCTIONS = """\
Eres un asistente de análisis audiovisual para investigación sobre medios. Recibes los \
resúmenes de los planos de un vídeo, en orden, y la transcripción completa. Escribe un \
resumen global del vídeo (5-8 frases, en español) y una lista de sus temas principales. \
No evalúes la intolerancia: eso se agrega aparte a partir de los planos."""


def system_message(instructions: str, schema: dict) -> str:
    contract = _CONTRACT.format(schema=json.dumps(schema, ensure_ascii=False, separators=(",", ":")))
    return f"{instructions.strip()}\n\n{contract}"


def clip_text(text: str, max_chars: int) -> str:
    """Keep at most ``max_chars`` characters, cutting at a word boundary, marked with an ellipsis."""
    text = text.strip()
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars].rsplit(" ", 1)[0]
    return cut + " […]"


def shot_message(start_s: float, end_s: float, n_frames: int, transcript: str, max_chars: int) -> str:
    spoken = clip_text(transcript, max_chars) if transcript.strip() else "(sin habla transcrita en este plano)"
    return (
        f"Plano de {format_timecode(start_s)} a {format_timecode(end_s)} "
        f"({end_s - start_s:.1f} s), {n_frames} fotograma(s).\n"
        f"Transcripción del plano:\n{spoken}"
    )


def correction_message(reason: str) -> str:
    return CORRECTION.format(reason=reason)


def video_summary_message(shot_lines: list[str], transcript: str, max_chars: int) -> str:
    shots = "\n".join(shot_lines) if shot_lines else "(ningún plano descrito)"
    spoken = clip_text(transcript, max_chars) if transcript.strip() else "(sin habla transcrita)"
    return f"Planos:\n{clip_text(shots, max_chars)}\n\nTranscripción completa:\n{spoken}"
