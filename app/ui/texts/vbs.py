"""The texts of the search tab's known-item tools: "A, then B", a minimum score and orders, other
appearances of a shot (reused footage), subtitles, EDL exports and deep links."""

ES = {
    # "A, then B"
    "vb_then_box": "Y después, en el mismo vídeo (consulta temporal)",
    "vb_then_text": "Describa lo que ocurre después",
    "vb_then_placeholder": "p. ej. un coche pasa por la calle (vacío = búsqueda normal)",
    "vb_then_image": "Imagen de ejemplo del momento posterior",
    "vb_within": "Como mucho, segundos entre los dos momentos",
    "vb_then_help": "Se buscan pares de tomas de un mismo vídeo: la primera responde a la consulta de arriba y la "
                    "segunda, que empieza después, a esta. La puntuación del par es la media geométrica de las dos.",
    "vb_pair": "Par #{n}",
    "vb_first": "Primero",
    "vb_then": "Después",
    "vb_gap": "{gap} s después",
    "vb_n_pairs": "{n} pares en «{db}» ({seconds} s).",
    "vb_n_pairs_one": "1 par en «{db}» ({seconds} s).",
    "vb_refine_pairs": "Refinar funciona con búsquedas de un solo momento: quite el texto y la imagen de «Y después».",
    # threshold and order
    "vb_min_score": "Puntuación mínima",
    "vb_min_score_info": "Se ocultan los resultados por debajo (0 = todos). Con varios canales, la puntuación es la "
                         "parte de la mejor posible (1 = primero en todas las clasificaciones); solo con el canal de "
                         "imagen, es la similitud del coseno.",
    "vb_sort": "Ordenar por",
    "vb_sort_score": "Puntuación",
    "vb_sort_video": "Vídeo y tiempo",
    "vb_sort_date": "Fecha de indexación (recientes primero)",
    "vb_sort_date_asc": "Fecha de indexación (antiguos primero)",
    "vb_cut": " Ocultos por debajo de {min}: {hidden}.",
    # other appearances, subtitles, link
    "vb_appearances": "Buscar otras apariciones",
    "vb_appearances_title": "Otras apariciones de este material",
    "vb_no_appearances": "Este material no aparece en otros vídeos de «{db}» (similitud ≥ {min}).",
    "vb_appearance": "{source} · {start} – {end} · similitud {similarity}",
    "vb_appearance_here": "aquí: {start} – {end}",
    "vb_open": "Abrir",
    "vb_subtitles": "Subtítulos (WebVTT y SRT)",
    "vb_subtitles_files": "Subtítulos de este vídeo",
    "vb_link": "Enlace a este momento",
    "vb_link_title": "{source} · desde {start}",
    "vb_link_bad": "El enlace no es válido o el vídeo no está en «{db}».",
    "err.media.no_transcript": "«{name}» aún no tiene transcripción: transcríbalo antes (el canal de voz, "
                               "`enrich --channels speech`, o el modo de análisis la guardan).",
    "err.query.within_range": "El intervalo entre los dos momentos debe estar entre 0 y {limit} segundos; se ha pedido {value}.",
    "err.query.sort": "Orden desconocido «{sort}»: use {orders}.",
    "err.query.min_score": "La puntuación mínima debe estar entre -1 y 1; se ha pedido {value}.",
}

EN = {
    "vb_then_box": "And then, in the same video (temporal query)",
    "vb_then_text": "Describe what happens next",
    "vb_then_placeholder": "e.g. a car drives down the street (empty = plain search)",
    "vb_then_image": "Example image of the later moment",
    "vb_within": "At most, seconds between the two moments",
    "vb_then_help": "Pairs of shots of one video are searched: the first answers the query above and the second, "
                    "starting later, this one. A pair scores the geometric mean of the two.",
    "vb_pair": "Pair #{n}",
    "vb_first": "First",
    "vb_then": "Then",
    "vb_gap": "{gap} s later",
    "vb_n_pairs": "{n} pairs in “{db}” ({seconds} s).",
    "vb_n_pairs_one": "1 pair in “{db}” ({seconds} s).",
    "vb_refine_pairs": "Refine works with one-moment searches: clear the text and image of “And then”.",
    "vb_min_score": "Minimum score",
    "vb_min_score_info": "Results below it are hidden (0 = all). With several channels the score is the share of the "
                         "best possible (1 = first in every ranking); with the image channel alone, a cosine "
                         "similarity.",
    "vb_sort": "Sort by",
    "vb_sort_score": "Score",
    "vb_sort_video": "Video and time",
    "vb_sort_date": "Ingest date (newest first)",
    "vb_sort_date_asc": "Ingest date (oldest first)",
    "vb_cut": " Hidden below {min}: {hidden}.",
    "vb_appearances": "Find other appearances",
    "vb_appearances_title": "Other appearances of this footage",
    "vb_no_appearances": "This footage does not appear in other videos of “{db}” (similarity ≥ {min}).",
    "vb_appearance": "{source} · {start} – {end} · similarity {similarity}",
    "vb_appearance_here": "here: {start} – {end}",
    "vb_open": "Open",
    "vb_subtitles": "Subtitles (WebVTT and SRT)",
    "vb_subtitles_files": "Subtitles of this video",
    "vb_link": "Link to this moment",
    "vb_link_title": "{source} · from {start}",
    "vb_link_bad": "The link is not valid or the video is not in “{db}”.",
    "err.media.no_transcript": "“{name}” has no transcript yet: transcribe it first (the speech channel, "
                               "`enrich --channels speech`, or the analysis mode stores one).",
    "err.query.within_range": "The time between the two moments must be between 0 and {limit} seconds; {value} was asked.",
    "err.query.sort": "Unknown order “{sort}”: use {orders}.",
    "err.query.min_score": "The minimum score must be between -1 and 1; {value} was asked.",
}
