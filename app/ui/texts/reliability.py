"""Texts of the server's guards (upload caps, free disk space, login throttling, uploads that are gone)
and of the pipeline's error codes for a full disk, a read-only or damaged store, and logs over the caps."""

ES = {
    "upload_no_length": "El envío no declara su tamaño (Content-Length); el servidor no acepta subidas sin él.",
    "upload_too_large": "El envío ocupa {mb} MB; el máximo por envío es {max} MB (todos los archivos juntos).",
    "upload_too_many": "El envío trae {n} archivos; el máximo es {max} por envío.",
    "upload_no_space": "No queda espacio libre suficiente en el disco del servidor para esta subida ({mb} MB); "
                       "avise al administrador.",
    "login_throttled": "Demasiados intentos fallidos de acceso; espere {s} s antes de volver a intentarlo.",
    "files_too_many": "Ha elegido {n} archivos; el máximo es {max} por operación.",
    "files_too_large": "Los archivos ocupan {mb} MB; el máximo por operación es {max} MB.",
    "upload_gone": "El archivo subido «{name}» ya no está en el servidor; súbalo de nuevo.",
    "choice_not_offered": "«{value}» no está entre lo que se ofrece aquí; elija uno de: {choices}. El administrador "
                          "puede ofrecer más modelos (BUSCA_UI_WHISPER_MODELS, BUSCA_UI_VLM_MODELS).",
    # the pipeline's error codes of this area (see app.ui.texts.errors)
    "err.store.disk_full": "No queda espacio libre suficiente en el disco del servidor (quedan {free}; hacen falta "
                           "{needed}): no se puede escribir en el archivo. Avise al administrador.",
    "err.store.read_only": "El archivo está abierto solo para consultas porque el disco del servidor estaba casi "
                           "lleno: se puede buscar, pero no indexar. Avise al administrador.",
    "err.store.damaged": "Los archivos de la base de datos «{name}» están dañados: restáurela desde una copia de "
                         "seguridad o vuelva a indexarla. Los detalles están en el registro del servidor.",
    "err.config.log_too_many": "El registro «{name}» tiene más de {limit} entradas: divídalo en varios.",
    "err.url.scheme": "Solo se aceptan direcciones http o https: «{url}».",
    "err.url.credentials": "No se aceptan direcciones con usuario o contraseña: «{url}».",
    "err.url.bad_port": "El puerto de la dirección no es válido: «{url}».",
    "err.url.no_host": "A la dirección le falta el servidor: «{url}».",
    "err.url.unresolvable": "No se encuentra el servidor «{host}» de la dirección «{url}».",
    "err.url.no_address": "El servidor «{host}» de la dirección «{url}» no tiene ninguna dirección de red.",
    "err.url.not_public": "La dirección «{url}» lleva a una red privada o local ({host}): solo se aceptan "
                          "direcciones públicas de internet.",
    "err.url.not_allowed": "El servidor «{host}» no está entre los sitios de vídeo permitidos ({allowed}); el "
                           "administrador puede añadir sitios (BUSCA_ALLOWED_HOSTS).",
    "err.url.playlist": "«{url}» es una lista de reproducción o un canal: indique la dirección de un solo vídeo.",
    "err.url.live": "«{url}» es una emisión en directo: espere a que se publique la grabación.",
    "err.url.too_long": "El vídeo de «{url}» dura {minutes} min, más que el límite de {limit} min.",
    "err.url.too_big": "La descarga de «{url}» ocupa unos {mb} MB, más que el límite de {limit} MB.",
    "err.url.no_file": "La descarga de «{url}» no produjo ningún archivo (más de {limit} MB, o ningún formato "
                       "de hasta {height}p).",
    "err.url.not_video": "Lo descargado de «{url}» no es un vídeo legible.",
    "err.url.no_video": "No se encontró ningún vídeo en «{url}» (ningún extractor permitido la reconoce).",
    "err.url.download_failed": "No se pudo descargar «{url}». Los detalles están en el registro del servidor.",
    "err.config.log_too_big": "El registro «{name}» ocupa {size}, más que el límite de {limit}: divídalo en varios.",
}

EN = {
    "upload_no_length": "The request does not declare its size (Content-Length); the server accepts no upload without it.",
    "upload_too_large": "The request holds {mb} MB; the most per request is {max} MB (all its files together).",
    "upload_too_many": "The request carries {n} files; the most is {max} per request.",
    "upload_no_space": "Not enough free space is left on the server's disk for this upload ({mb} MB); "
                       "tell the administrator.",
    "login_throttled": "Too many failed logins; wait {s} s before trying again.",
    "files_too_many": "You chose {n} files; the most is {max} at a time.",
    "files_too_large": "The files hold {mb} MB; the most at a time is {max} MB.",
    "upload_gone": "The uploaded file “{name}” is no longer on the server; upload it again.",
    "choice_not_offered": "“{value}” is not offered here; choose one of: {choices}. The administrator can offer "
                          "more models (BUSCA_UI_WHISPER_MODELS, BUSCA_UI_VLM_MODELS).",
    "err.store.disk_full": "Not enough free space is left on the server's disk ({free} left, {needed} needed): "
                           "nothing can be written to the archive. Tell the administrator.",
    "err.store.read_only": "The archive is open for searching only, because the server's disk was nearly full: "
                           "search works, ingest does not. Tell the administrator.",
    "err.store.damaged": "The files of database “{name}” are damaged: restore it from a backup or ingest it again. "
                         "The details are in the server log.",
    "err.config.log_too_many": "The log “{name}” has more than {limit} entries: split it.",
    "err.url.scheme": "Only http and https addresses are accepted: “{url}”.",
    "err.url.credentials": "Addresses with a user name or password are refused: “{url}”.",
    "err.url.bad_port": "The address has an invalid port: “{url}”.",
    "err.url.no_host": "The address has no server: “{url}”.",
    "err.url.unresolvable": "The server “{host}” of the address “{url}” cannot be found.",
    "err.url.no_address": "The server “{host}” of the address “{url}” has no network address.",
    "err.url.not_public": "The address “{url}” leads to a private or local network ({host}): only public internet "
                          "addresses are accepted.",
    "err.url.not_allowed": "The server “{host}” is not one of the allowed video sites ({allowed}); the "
                           "administrator can add sites (BUSCA_ALLOWED_HOSTS).",
    "err.url.playlist": "“{url}” is a playlist or channel: give the address of a single video.",
    "err.url.live": "“{url}” is a live stream: wait until the recording is published.",
    "err.url.too_long": "The video at “{url}” lasts {minutes} min, over the limit of {limit} min.",
    "err.url.too_big": "The download of “{url}” is about {mb} MB, over the limit of {limit} MB.",
    "err.url.no_file": "The download of “{url}” produced no file (over {limit} MB, or no format up to "
                       "{height}p).",
    "err.url.not_video": "What was downloaded from “{url}” is not a readable video.",
    "err.url.no_video": "No video was found at “{url}” (no allowed extractor recognises it).",
    "err.url.download_failed": "“{url}” could not be downloaded. The details are in the server log.",
    "err.config.log_too_big": "The log “{name}” holds {size}, over the limit of {limit}: split it.",
}
