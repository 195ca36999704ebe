"""Texts of the server-side jobs (progress, states, cancelling), the analysis results' honesty
(valid and failed shots), the models' pre-flight and the Configuración tab's checks, and the
evaluation of real logs (skipped lines, reasons)."""

_HOWTO_ES = """\
La pestaña necesita un **modelo de visión y lenguaje** (Qwen2.5-VL u otro con visión). Hay dos formas:

1. **En este servidor** (motor `transformers`): el modelo se carga aquí; hace falta una GPU y que sus
   pesos estén en el equipo o se puedan descargar de Hugging Face.
2. **Un servidor compatible con OpenAI** (motor `openai`), en este equipo o en la red local:
   - **vLLM** (GPU): `vllm serve Qwen/Qwen2.5-VL-7B-Instruct --port 8000` → URL `http://localhost:8000/v1`,
     modelo `Qwen/Qwen2.5-VL-7B-Instruct`.
   - **Ollama**: `ollama pull qwen2.5vl:7b` (y `ollama serve` si no está en marcha) → URL
     `http://localhost:11434/v1`, modelo `qwen2.5vl:7b`.

   Elija la URL en la lista, escriba el nombre del modelo tal como lo sirve el servidor y pulse
   **Probar conexión**. Por seguridad, solo se puede usar un servidor que el administrador haya
   autorizado (`BUSCA_VLM_URL`, `BUSCA_VLM_URLS`).

**Whisper** (la transcripción) se descarga solo la primera vez que se usa, salvo que el servidor no tenga
conexión: entonces el administrador debe dejarlo en la caché o indicar una carpeta (`BUSCA_WHISPER_MODEL`)."""

_HOWTO_EN = """\
This tab needs a **vision-language model** (Qwen2.5-VL or another one with vision). Two ways:

1. **On this server** (`transformers` backend): the model is loaded here; it needs a GPU, and its
   weights on this machine or downloadable from Hugging Face.
2. **An OpenAI-compatible server** (`openai` backend), on this machine or the local network:
   - **vLLM** (GPU): `vllm serve Qwen/Qwen2.5-VL-7B-Instruct --port 8000` → URL `http://localhost:8000/v1`,
     model `Qwen/Qwen2.5-VL-7B-Instruct`.
   - **Ollama**: `ollama pull qwen2.5vl:7b` (and `ollama serve` if it is not running) → URL
     `http://localhost:11434/v1`, model `qwen2.5vl:7b`.

   Pick the URL in the list, type the model's name as the server serves it and press **Test
   connection**. For safety, only servers the administrator allowed can be used (`BUSCA_VLM_URL`,
   `BUSCA_VLM_URLS`).

**Whisper** (the transcript) is downloaded the first time it is used, unless the server has no
connection: then the administrator must leave it in the cache or give a folder (`BUSCA_WHISPER_MODEL`)."""

ES = {
    # Jobs: progress, states, cancelling
    "job_unit_video": "vídeo {index} de {total}",
    "job_unit_query": "consulta {index} de {total}",
    "job_queued": "En espera: empezará cuando termine el trabajo en curso.",
    "job_starting": "Empezando…",
    "job_done": "Terminado en {seconds}.",
    "job_failed": "Error: {error}",
    "job_cancelled": "Cancelado.",
    "job_cancelling": "Cancelando… (se detiene al terminar el paso en curso)",
    "job_stopped": "Trabajo detenido: {error}",
    "job_stopped_cancelled": "Trabajo cancelado. Lo ya hecho se conserva: pulse «Reanudar el trabajo» para seguir.",
    "job_running": "El trabajo {job} ya está en curso.",
    "job_unknown": "No hay ningún trabajo «{job}» en este servidor: elija uno de la lista «Trabajo anterior».",
    "jobs_queue_full": "Hay {n} trabajos esperando: inténtelo de nuevo cuando terminen.",
    "jobs_title": "Trabajos de esta pestaña",
    "jobs_none": "Ningún trabajo todavía.",
    "job_state_queued": "en espera",
    "job_state_running": "en curso",
    "job_state_done": "terminado",
    "job_state_failed": "error",
    "job_state_cancelled": "cancelado",
    "job_state_stopped": "detenido",
    "cancel_job": "Cancelar",
    "nothing_to_cancel": "No hay ningún trabajo en curso que cancelar.",
    "job_ingest_title": "Indexar {n} vídeos en «{db}»",
    "job_ingest_title_one": "Indexar 1 vídeo en «{db}»",
    "job_analysis_title": "Analizar {name}",
    "job_batch_title": "Análisis masivo {job} ({n} vídeos)",
    "job_batch_title_one": "Análisis masivo {job} (1 vídeo)",
    "job_evaluate_title": "Evaluar «{db}» con {name}",
    "job_interrupted": "interrumpido",
    # Analysis results: valid and failed shots
    "col_shots_ok": "Planos válidos",
    "col_shots_failed": "Planos con error",
    "status_partial": "analizado en parte",
    "status_not_started": "no iniciado",
    "status_running": "en curso",
    "no_valid_shots": "Ningún plano tiene un análisis válido ({failed} con error): el vídeo no se ha analizado.",
    "an_no_valid": "**Ningún plano tiene un análisis válido** ({failed} con error): este vídeo **no se ha analizado**, "
                   "y que no haya planos señalados no significa nada. Vea el error de cada plano abajo y revise el "
                   "modelo en «Configuración».",
    "an_partial": "**{failed} de {total} planos no tienen un análisis válido**: los planos señalados y la gravedad se "
                  "cuentan solo entre los {ok} válidos.",
    "batch_counts": "Trabajo **{job}**: {done} analizados, {partial} analizados en parte, {failed} con error, "
                    "{pending} sin empezar.",
    "batch_stopped_hint": "Los vídeos «no iniciado» se analizarán al reanudar el trabajo.",
    "skipped_lines": "Se omitieron {n} líneas: {lines}",
    "skipped_lines_one": "Se omitió 1 línea: {lines}",
    "skipped_line": "«{line}» ({reason})",
    # Models: pre-flight and how to connect
    "models_status": "Estado de los modelos",
    "test_connection": "Probar conexión",
    "status_checked": "Comprobado con la configuración del formulario (sin guardarla).",
    "kind_whisper": "modelo de Whisper",
    "kind_vlm": "modelo de visión y lenguaje",
    "model_found": "encontrado en este equipo ({where})",
    "model_download": "no está en este equipo: se descargará de Hugging Face la primera vez que se use (hace falta "
                      "conexión a internet)",
    "model_reachable": "el servidor {where} responde y sirve «{name}»",
    "model_reachable_unlisted": "el servidor {where} responde (no publica la lista de sus modelos)",
    "model_missing": "no está en este equipo y no se puede descargar (sin conexión con Hugging Face)",
    "model_missing_folder": "la carpeta {where} no existe o no contiene el modelo",
    "model_unreachable": "no se puede conectar con el servidor {where} ({detail}): compruebe que está en marcha y "
                         "que la URL es correcta",
    "model_refused": "el servidor {where} rechaza la clave de API ({detail})",
    "model_not_served": "el servidor {where} responde, pero no sirve «{name}»; sirve: {served}",
    "model_not_installed": "falta una biblioteca en el servidor ({detail})",
    "model_invalid": "«{name}» no es un nombre de modelo válido",
    "model_unusable": "No se puede usar el {kind} «{name}»: {reason}. Revíselo en «Configuración» → «Probar "
                      "conexión».",
    "howto_title": "Cómo conectar un modelo (vLLM u Ollama)",
    "howto": _HOWTO_ES,
    # Configuración: the server list and the checks, in the user's language
    "vlm_url_info_list": "Servidores autorizados por el administrador (BUSCA_VLM_URL, BUSCA_VLM_URLS).",
    "vlm_url_info_none": "El administrador no ha autorizado ningún servidor (BUSCA_VLM_URL, BUSCA_VLM_URLS): use el "
                         "motor transformers, o pídale que autorice uno.",
    "vlm_url_info_open": "Cualquier servidor compatible con OpenAI (este servidor permite elegirlo: "
                         "BUSCA_UI_MODELS=open).",
    "url_not_allowed": "La dirección «{url}» no está autorizada en este servidor. Por seguridad, la aplicación solo se "
                       "conecta a los servidores de modelos que el administrador ha autorizado: {allowed}. Elija uno "
                       "de la lista, o pida al administrador que añada el suyo (BUSCA_VLM_URLS).",
    "url_not_allowed_none": "La dirección «{url}» no está autorizada en este servidor. Por seguridad, la aplicación "
                            "solo se conecta a los servidores de modelos que el administrador ha autorizado, y no ha "
                            "autorizado ninguno: use el motor transformers, o pida que se añada (BUSCA_VLM_URLS).",
    "folder_not_allowed": "«{value}»: solo el administrador puede indicar carpetas de modelos en el servidor "
                          "(BUSCA_WHISPER_MODEL, BUSCA_VLM_MODEL). Escriba un nombre de modelo o un id de Hugging Face.",
    "vlm_model_empty": "Escriba el modelo de visión y lenguaje: un id de Hugging Face (Qwen/Qwen2.5-VL-7B-Instruct) "
                       "o, con un servidor, el nombre con el que lo sirve.",
    "url_needed": "El motor openai necesita la URL base del servidor, p. ej. http://localhost:8000/v1.",
    "url_scheme": "La URL del servidor debe empezar por http:// o https://: «{url}».",
    "audio_lang_bad": "Idioma del audio no válido: «{value}». Use un código como es o en, o auto.",
    "frames_bad": "Los fotogramas por plano deben estar entre 1 y {max}; se indicó {value}.",
    "instructions_empty": "Las instrucciones están vacías: escriba unas, o restaure las de por defecto.",
    "backend_bad": "Motor desconocido «{value}»: use transformers u openai.",
    "config_unsaved": "Hay cambios sin guardar.",
    "instructions_kept": "Las instrucciones editadas se guardan en este navegador.",
    # Evaluation of real logs
    "eval_skipped": "Se omitieron {n} líneas mal formadas del registro:",
    "eval_skipped_one": "Se omitió 1 línea mal formada del registro:",
    "eval_excluded_title": "Entradas excluidas:",
    "eval_line": "línea {line}",
    "eval_no_entries": "El registro «{name}» no tiene ninguna entrada válida. {problems}. Cada línea debe ser "
                       "«vídeo.mp4 00:01:02 - 00:01:10 DESCRIPCIÓN», o una fila de CSV con las columnas vídeo, "
                       "inicio, fin y texto (separadas por comas o por punto y coma).",
    "eval_nothing_matched": "Ninguna de las {n} entradas del registro corresponde a un vídeo de «{db}» (p. ej. línea "
                            "{line}: {video}). Compruebe que los nombres de archivo del registro coinciden con los "
                            "vídeos indexados (pestaña «Indexar vídeos»).",
    "eval_bad_overlap": "Solapamiento mínimo no válido: «{value}». Escriba segundos (1.5) o un porcentaje (50%).",
    "eval_unreadable": "No se puede leer el registro «{name}».",
    "problem_plain": "se esperaba «VÍDEO HH:MM:SS - HH:MM:SS DESCRIPCIÓN» y hay «{text}»",
    "problem_columns": "se esperaban al menos 4 columnas (vídeo, inicio, fin, descripción) y hay {n}",
    "problem_header": "a la cabecera le faltan las columnas {columns}",
    "problem_no_video": "falta el nombre del vídeo",
    "problem_no_text": "falta la descripción",
    "problem_bad_time": "«{value}» no es un tiempo (HH:MM:SS[.mmm], HH:MM:SS:FF o segundos)",
    "problem_end_before_start": "el final {end} es anterior al inicio {start}",
    "problem_negative_time": "«{value}»: un tiempo no puede ser negativo",
    "problem_over_60": "«{value}»: los minutos y los segundos deben ser menores que 60",
    "problem_bad_frame": "el fotograma {frame} no existe a {fps} fps",
    "problem_bad_json": "no es JSON válido",
    "problem_not_object": "se esperaba un objeto JSON",
    "excluded_not_indexed": "el vídeo no está indexado en esta base de datos",
    "excluded_no_translation": "sin traducción, que la configuración «{config}» necesita",
    "col_recall": "{level} R@{k}",
}

EN = {
    "job_unit_video": "video {index} of {total}",
    "job_unit_query": "query {index} of {total}",
    "job_queued": "Waiting: it starts when the job in progress ends.",
    "job_starting": "Starting…",
    "job_done": "Finished in {seconds}.",
    "job_failed": "Error: {error}",
    "job_cancelled": "Cancelled.",
    "job_cancelling": "Cancelling… (it stops when the current step ends)",
    "job_stopped": "Job stopped: {error}",
    "job_stopped_cancelled": "Job cancelled. What was done is kept: press “Resume the job” to go on.",
    "job_running": "Job {job} is already running.",
    "job_unknown": "There is no job “{job}” on this server: pick one in the “Previous job” list.",
    "jobs_queue_full": "{n} jobs are waiting: try again when they are done.",
    "jobs_title": "Jobs of this tab",
    "jobs_none": "No job yet.",
    "job_state_queued": "waiting",
    "job_state_running": "running",
    "job_state_done": "finished",
    "job_state_failed": "failed",
    "job_state_cancelled": "cancelled",
    "job_state_stopped": "stopped",
    "cancel_job": "Cancel",
    "nothing_to_cancel": "No job in progress to cancel.",
    "job_ingest_title": "Ingest {n} videos into “{db}”",
    "job_ingest_title_one": "Ingest 1 video into “{db}”",
    "job_analysis_title": "Analyse {name}",
    "job_batch_title": "Batch analysis {job} ({n} videos)",
    "job_batch_title_one": "Batch analysis {job} (1 video)",
    "job_evaluate_title": "Evaluate “{db}” with {name}",
    "job_interrupted": "interrupted",
    "col_shots_ok": "Valid shots",
    "col_shots_failed": "Failed shots",
    "status_partial": "partly analysed",
    "status_not_started": "not started",
    "status_running": "running",
    "no_valid_shots": "No shot has a valid analysis ({failed} failed): the video was not analysed.",
    "an_no_valid": "**No shot has a valid analysis** ({failed} failed): this video **was not analysed**, and no "
                   "flagged shot means nothing. See each shot's error below and check the model in “Settings”.",
    "an_partial": "**{failed} of {total} shots have no valid analysis**: flagged shots and severity count the {ok} "
                  "valid ones only.",
    "batch_counts": "Job **{job}**: {done} analysed, {partial} partly analysed, {failed} failed, {pending} not "
                    "started.",
    "batch_stopped_hint": "Videos “not started” are analysed when the job is resumed.",
    "skipped_lines": "{n} lines skipped: {lines}",
    "skipped_lines_one": "1 line skipped: {lines}",
    "skipped_line": "“{line}” ({reason})",
    "models_status": "Models' status",
    "test_connection": "Test connection",
    "status_checked": "Checked with the settings in the form (not saved).",
    "kind_whisper": "Whisper model",
    "kind_vlm": "vision-language model",
    "model_found": "found on this machine ({where})",
    "model_download": "not on this machine: it will be downloaded from Hugging Face the first time it is used "
                      "(needs an internet connection)",
    "model_reachable": "the server {where} answers and serves “{name}”",
    "model_reachable_unlisted": "the server {where} answers (it does not publish its list of models)",
    "model_missing": "not on this machine, and it cannot be downloaded (no connection to Hugging Face)",
    "model_missing_folder": "folder {where} does not exist or holds no model",
    "model_unreachable": "cannot connect to the server {where} ({detail}): check that it is running and that the URL "
                         "is right",
    "model_refused": "the server {where} refuses the API key ({detail})",
    "model_not_served": "the server {where} answers, but does not serve “{name}”; it serves: {served}",
    "model_not_installed": "a library is missing on the server ({detail})",
    "model_invalid": "“{name}” is not a valid model name",
    "model_unusable": "The {kind} “{name}” cannot be used: {reason}. Check it in “Settings” → “Test connection”.",
    "howto_title": "How to connect a model (vLLM or Ollama)",
    "howto": _HOWTO_EN,
    "vlm_url_info_list": "Servers allowed by the administrator (BUSCA_VLM_URL, BUSCA_VLM_URLS).",
    "vlm_url_info_none": "The administrator has allowed no server (BUSCA_VLM_URL, BUSCA_VLM_URLS): use the "
                         "transformers backend, or ask them to allow one.",
    "vlm_url_info_open": "Any OpenAI-compatible server (this server lets users pick it: BUSCA_UI_MODELS=open).",
    "url_not_allowed": "The address “{url}” is not allowed on this server. For safety, the app only connects to model "
                       "servers the administrator allowed: {allowed}. Pick one in the list, or ask the administrator "
                       "to add yours (BUSCA_VLM_URLS).",
    "url_not_allowed_none": "The address “{url}” is not allowed on this server. For safety, the app only connects to "
                            "model servers the administrator allowed, and none is: use the transformers backend, or "
                            "ask for one to be added (BUSCA_VLM_URLS).",
    "folder_not_allowed": "“{value}”: only the administrator can set model folders on the server "
                          "(BUSCA_WHISPER_MODEL, BUSCA_VLM_MODEL). Type a model name or a Hugging Face id.",
    "vlm_model_empty": "Type the vision-language model: a Hugging Face id (Qwen/Qwen2.5-VL-7B-Instruct) or, with a "
                       "server, the name it serves it under.",
    "url_needed": "The openai backend needs the server's base URL, e.g. http://localhost:8000/v1.",
    "url_scheme": "The server's URL must start with http:// or https://: “{url}”.",
    "audio_lang_bad": "Invalid audio language: “{value}”. Use a code such as es or en, or auto.",
    "frames_bad": "Frames per shot must be between 1 and {max}; {value} was given.",
    "instructions_empty": "The instructions are empty: write some, or restore the default ones.",
    "backend_bad": "Unknown backend “{value}”: use transformers or openai.",
    "config_unsaved": "There are unsaved changes.",
    "instructions_kept": "Edited instructions are kept in this browser.",
    "eval_skipped": "{n} malformed lines of the log were skipped:",
    "eval_skipped_one": "1 malformed line of the log was skipped:",
    "eval_excluded_title": "Excluded entries:",
    "eval_line": "line {line}",
    "eval_no_entries": "The log “{name}” has no valid entry. {problems}. Each line must be “video.mp4 00:01:02 - "
                       "00:01:10 DESCRIPTION”, or a CSV row with the columns video, start, end and text (separated "
                       "by commas or semicolons).",
    "eval_nothing_matched": "None of the log's {n} entries is a video of “{db}” (e.g. line {line}: {video}). Check "
                            "that the log's file names match the indexed videos (tab “Ingest videos”).",
    "eval_bad_overlap": "Invalid minimum overlap: “{value}”. Type seconds (1.5) or a percentage (50%).",
    "eval_unreadable": "The log “{name}” cannot be read.",
    "problem_plain": "expected “VIDEO HH:MM:SS - HH:MM:SS DESCRIPTION”, got “{text}”",
    "problem_columns": "expected at least 4 columns (video, start, end, description), got {n}",
    "problem_header": "the header lacks the columns {columns}",
    "problem_no_video": "no video file name",
    "problem_no_text": "no description",
    "problem_bad_time": "“{value}” is not a time (HH:MM:SS[.mmm], HH:MM:SS:FF or seconds)",
    "problem_end_before_start": "the end {end} is before the start {start}",
    "problem_negative_time": "“{value}”: a time cannot be negative",
    "problem_over_60": "“{value}”: minutes and seconds must be below 60",
    "problem_bad_frame": "frame {frame} does not exist at {fps} fps",
    "problem_bad_json": "not valid JSON",
    "problem_not_object": "expected a JSON object",
    "excluded_not_indexed": "the video is not indexed in this database",
    "excluded_no_translation": "no translation, which configuration “{config}” needs",
    "col_recall": "{level} R@{k}",
}
