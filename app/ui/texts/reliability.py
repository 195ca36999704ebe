"""Texts of the server's guards: upload caps, free disk space, login throttling, uploads that are gone."""

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
}
