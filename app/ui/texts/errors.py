"""The pipeline's error codes (:data:`pipeline.errors.MESSAGES`) as the web app says them: cause first,
then the file or database it concerns. Keys are ``err.<code>``.

Parameters: those of the code, plus ``name`` (the file name of a ``path``, never the server path).
A technical ``reason`` (an FFmpeg or Pillow message) is left out on purpose: the server log has it.
Generic codes (``err.media``...) are shown for errors raised with free text, which is English.
"""

ES = {
    "err.error": "Se ha producido un error inesperado. Los detalles están en el registro del servidor.",
    "err.media": "No se puede usar el archivo «{name}». Los detalles están en el registro del servidor.",
    "err.config": "Un ajuste tiene un valor que no sirve. Los detalles están en el registro del servidor.",
    "err.query": "La consulta no es válida; revísela e inténtelo de nuevo.",
    "err.store": "La base de datos no ha podido completar la operación. Los detalles están en el registro del "
                 "servidor.",
    "err.model": "No se ha podido cargar o ejecutar el modelo; consulte al administrador.",
    "err.url": "No se ha podido usar esa URL.",
    "err.catalog": "El catálogo de vídeos no se puede leer o escribir: compruébelo y repárelo en la pestaña "
                   "«Gestionar archivo». Los detalles están en el registro del servidor.",
    "err.media.not_found": "No se encuentra el archivo: «{name}».",
    "err.media.is_folder": "Es una carpeta, no un archivo de vídeo: «{name}».",
    "err.media.empty": "El archivo está vacío (0 bytes): «{name}».",
    "err.media.corrupt": "No es un vídeo legible, o está dañado o incompleto: «{name}».",
    "err.media.unopenable": "No se puede abrir como vídeo: «{name}».",
    "err.media.still_image": "Es una imagen fija ({format}), no un vídeo: «{name}».",
    "err.media.no_video_stream": "No contiene ninguna pista de vídeo: «{name}».",
    "err.media.no_decoder": "Este servidor no sabe decodificar el códec de vídeo; vuelva a codificarlo (por ejemplo, "
                            "a H.264 en MP4): «{name}».",
    "err.media.too_many_pixels": "La resolución {width}×{height} supera el límite de {limit} píxeles: «{name}».",
    "err.media.no_frames": "No tiene fotogramas que se puedan decodificar: los datos están dañados o no son lo que "
                           "declara el archivo: «{name}».",
    "err.media.unreadable": "No se puede leer el archivo: «{name}».",
    "err.media.unplaceable": "No se ha podido guardar el vídeo en el directorio de datos (¿disco lleno o sin "
                             "permisos?): «{name}».",
    "err.media.unexpected": "Error inesperado al procesar el archivo (los detalles están en el registro del "
                            "servidor): «{name}».",
    "err.media.worker_died": "El proceso que lo preparaba se detuvo {times} veces (¿falta de memoria?): «{name}».",
    "err.image.not_found": "No se encuentra la imagen: «{name}».",
    "err.image.invalid": "El archivo no es una imagen válida (use JPG, PNG, WEBP o AVIF): «{name}».",
    "err.image.undecodable": "La imagen está dañada o incompleta y no se puede leer: «{name}».",
    "err.image.too_many_pixels": "La imagen tiene demasiados píxeles ({width}×{height}; máximo {limit}): «{name}».",
    "err.image.too_big": "La imagen ocupa {size_mb} MB, más que el límite de {limit_mb} MB: «{name}».",
    "err.config.db_name": "Nombre de base de datos no válido: use de 1 a 64 letras, dígitos, «-» o «_», empezando "
                          "por una letra o un dígito («{name}»).",
    "err.config.video_id": "Identificador de vídeo no válido: «{video_id}».",
    "err.query.empty": "Consulta vacía: escriba una descripción de la escena, suba una imagen de ejemplo, o ambas.",
    "err.query.weight_range": "El peso de la imagen debe estar entre 0 y 1 (se recibió {value}).",
    "err.query.k_range": "El número de resultados debe estar entre 1 y 1000 (se recibió {value}).",
    "err.query.zero_vector": "El texto y la imagen se anulan entre sí: cambie el peso de la imagen.",
    "err.query.marked_both": "Un resultado no puede ser a la vez relevante y no relevante.",
    "err.query.refine_empty": "Para refinar hace falta una consulta o al menos un resultado relevante.",
    "err.query.recommend_positive": "El método «Qdrant recommend» necesita al menos un resultado marcado como "
                                    "relevante.",
    "err.query.refine_method": "Método de refinado desconocido («{method}»): use Rocchio o Qdrant recommend.",
    "err.query.unknown_shot": "Esa toma ya no está en la base de datos «{db}»: busque de nuevo y elija un resultado.",
    "err.query.no_vectors": "La base de datos «{db}» se indexó con otro modelo ({known}): búsquela con el modelo con "
                            "el que se indexó.",
    "err.store.locked": "La base de datos está abierta por otro proceso: detenga el otro proceso (por ejemplo, una "
                        "indexación desde la línea de órdenes) o use un servidor Qdrant.",
    "err.store.unknown_db": "La base de datos «{name}» no existe. Bases de datos disponibles: {known}.",
    "err.store.no_databases": "La base de datos «{name}» no existe, y todavía no hay ninguna: indexe algún vídeo "
                              "primero.",
}

EN = {
    "err.error": "Something went wrong. The details are in the server's log.",
    "err.media": "The file “{name}” cannot be used. The details are in the server's log.",
    "err.config": "A setting has a value that cannot work. The details are in the server's log.",
    "err.query": "The query is not valid; check it and try again.",
    "err.store": "The database could not complete the operation. The details are in the server's log.",
    "err.model": "The model could not be loaded or run; ask the administrator.",
    "err.url": "That URL cannot be used.",
    "err.catalog": "The video catalog cannot be read or written: check and repair it in the “Manage archive” "
                   "tab. The details are in the server's log.",
    "err.media.not_found": "File not found: “{name}”.",
    "err.media.is_folder": "This is a folder, not a video file: “{name}”.",
    "err.media.empty": "The file is empty (0 bytes): “{name}”.",
    "err.media.corrupt": "Not a readable video, or damaged or truncated: “{name}”.",
    "err.media.unopenable": "Cannot be opened as a video: “{name}”.",
    "err.media.still_image": "This is a still image ({format}), not a video: “{name}”.",
    "err.media.no_video_stream": "There is no video track in it: “{name}”.",
    "err.media.no_decoder": "This server cannot decode the video codec; re-encode it (e.g. to H.264 in MP4): "
                            "“{name}”.",
    "err.media.too_many_pixels": "The resolution {width}×{height} is above the limit of {limit} pixels: “{name}”.",
    "err.media.no_frames": "No frame can be decoded: the video data is damaged or not what the file declares: "
                           "“{name}”.",
    "err.media.unreadable": "The file cannot be read: “{name}”.",
    "err.media.unplaceable": "The video could not be saved in the data directory (disk full, or no permission?): "
                             "“{name}”.",
    "err.media.unexpected": "Unexpected error while processing the file (the details are in the server's log): "
                            "“{name}”.",
    "err.media.worker_died": "The process preparing it stopped {times} times (out of memory?): “{name}”.",
    "err.image.not_found": "Image not found: “{name}”.",
    "err.image.invalid": "The file is not a valid image (use JPG, PNG, WEBP or AVIF): “{name}”.",
    "err.image.undecodable": "The image is damaged or truncated and cannot be read: “{name}”.",
    "err.image.too_many_pixels": "The image has too many pixels ({width}×{height}; at most {limit}): “{name}”.",
    "err.image.too_big": "The image is {size_mb} MB, above the limit of {limit_mb} MB: “{name}”.",
    "err.config.db_name": "Invalid database name: use 1-64 letters, digits, “-” or “_”, starting with a letter or a "
                          "digit (“{name}”).",
    "err.config.video_id": "Invalid video id: “{video_id}”.",
    "err.query.empty": "Empty query: describe the scene, upload an example image, or both.",
    "err.query.weight_range": "The image weight must be between 0 and 1 (got {value}).",
    "err.query.k_range": "The number of results must be between 1 and 1000 (got {value}).",
    "err.query.zero_vector": "The text and the image cancel each other out: change the image weight.",
    "err.query.marked_both": "A result cannot be both relevant and not relevant.",
    "err.query.refine_empty": "Refining needs a query or at least one relevant result.",
    "err.query.recommend_positive": "The “Qdrant recommend” method needs at least one result marked relevant.",
    "err.query.refine_method": "Unknown refine method (“{method}”): use Rocchio or Qdrant recommend.",
    "err.query.unknown_shot": "That shot is no longer in database “{db}”: search again and pick a result.",
    "err.query.no_vectors": "Database “{db}” was indexed with another model ({known}): search it with the model it "
                            "was indexed with.",
    "err.store.locked": "The database is open in another process: stop the other process (e.g. an ingest from the "
                        "command line) or use a Qdrant server.",
    "err.store.unknown_db": "Database “{name}” does not exist. Available databases: {known}.",
    "err.store.no_databases": "Database “{name}” does not exist, and there is none yet: ingest a video first.",
}
