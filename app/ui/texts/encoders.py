"""The texts of the encoder picker in the search options (engineer "encoders")."""

ES = {
    "encoder_pick": "Codificador",
    "encoder_pick_info": "Los codificadores que guarda esta base de datos (añada otro con `python -m app reindex`).",
    "encoder_default": "El de la base de datos",
    "encoder_unrecorded": "pesos sin registrar",
    "query_encoder_pick": "Codificador de la consulta",
    "query_encoder_info": "Cómo se convierte el texto en vector. Automático: el propio del modelo si es "
                          "multilingüe; M-CLIP o traducción al inglés (Apertium) si el modelo solo entiende inglés.",
    "query_encoder_auto": "Automático",
    "query_encoder_native": "El del modelo",
    "query_encoder_mclip": "M-CLIP (multilingüe, para ViT-L-14/openai)",
    "query_encoder_translate": "Traducir al inglés (Apertium)",
    "encoders_ran": "Codificador: {encoder}; consulta: {query} ({reason}).",
    "query_translated": "Consulta traducida: «{text}».",
    "qe_reason_asked": "elegido",
    "qe_reason_multilingual": "modelo multilingüe",
    "qe_reason_uncatalogued": "modelo fuera del catálogo: su propio codificador de texto",
    "qe_reason_mclip": "modelo solo en inglés; M-CLIP lleva las consultas en español a su espacio",
    "qe_reason_translate": "modelo solo en inglés; consultas traducidas al inglés con Apertium",
    "qe_reason_english_only": "modelo solo en inglés y sin M-CLIP ni Apertium: escriba las consultas en inglés",
    # the pipeline's error codes about encoders (pipeline.errors.MESSAGES), as the web app says them
    "err.query.encoder_missing": "La base de datos «{db}» no tiene vectores del modelo {model}; tiene: {held}. Elija "
                                 "uno de esos en el selector de codificador, o añada este con "
                                 "`python -m app reindex --db {db} --model {model}`.",
    "err.query.encoder_weights": "Consulta rechazada para no responder en otro espacio: los vectores {vector} de "
                                 "«{db}» los hizo {made_by} con otros pesos ({weights}) que los cargados ({mine}). "
                                 "Cargue el modelo que los hizo, o indexe con este en otra base de datos.",
    "err.query.encoder_space": "Consulta rechazada para no responder en otro espacio: los vectores {vector} de "
                               "«{db}» los hizo {made_by}, y {model} lleva las consultas al espacio de {space}.",
    "err.query.mclip_space": "M-CLIP solo sirve para bases de datos de {space}; esta la hizo {made_by}: use el "
                             "codificador del modelo o la traducción.",
    "err.query.no_translator": "La traducción de consultas necesita Apertium (apt install apertium-eng-spa); "
                               "elija otro codificador de consulta.",
    "err.query.query_encoder": "Codificador de consulta desconocido («{name}»): use {choices}.",
    "err.model.unavailable": "El modelo «{model}» no está en este equipo y no se puede descargar: descárguelo en un "
                             "equipo con conexión (`python -m app models download {model}`) y pida al "
                             "administrador que indique la carpeta (BUSCA_MODELS_DIR).",
}

EN = {
    "encoder_pick": "Encoder",
    "encoder_pick_info": "The encoders this database holds (add one with `python -m app reindex`).",
    "encoder_default": "The database's own",
    "encoder_unrecorded": "weights unrecorded",
    "query_encoder_pick": "Query encoder",
    "query_encoder_info": "How the text becomes a vector. Automatic: the model's own when it is multilingual; "
                          "M-CLIP or translation to English (Apertium) when the model only reads English.",
    "query_encoder_auto": "Automatic",
    "query_encoder_native": "The model's own",
    "query_encoder_mclip": "M-CLIP (multilingual, for ViT-L-14/openai)",
    "query_encoder_translate": "Translate to English (Apertium)",
    "encoders_ran": "Encoder: {encoder}; query: {query} ({reason}).",
    "query_translated": "Query translated: “{text}”.",
    "qe_reason_asked": "chosen",
    "qe_reason_multilingual": "multilingual model",
    "qe_reason_uncatalogued": "model not in the catalogue: its own text tower",
    "qe_reason_mclip": "English-only model; M-CLIP maps Spanish queries into its space",
    "qe_reason_translate": "English-only model; queries translated to English by Apertium",
    "qe_reason_english_only": "English-only model and neither M-CLIP nor Apertium: write queries in English",
    "err.query.encoder_missing": "Database “{db}” has no vectors of {model}; it holds: {held}. Pick one of those in "
                                 "the encoder picker, or add this one with "
                                 "`python -m app reindex --db {db} --model {model}`.",
    "err.query.encoder_weights": "Query refused rather than answered in another space: the {vector} vectors of "
                                 "“{db}” were made by {made_by} with other weights ({weights}) than those loaded "
                                 "({mine}). Load the model that made them, or index with this one into another "
                                 "database.",
    "err.query.encoder_space": "Query refused rather than answered in another space: the {vector} vectors of "
                               "“{db}” were made by {made_by}, and {model} maps queries into the space of {space}.",
    "err.query.mclip_space": "M-CLIP only serves {space} databases; this one was made by {made_by}: use the "
                             "model's own query encoder or translation.",
    "err.query.no_translator": "Query translation needs Apertium (apt install apertium-eng-spa); pick another query "
                               "encoder.",
    "err.query.query_encoder": "Unknown query encoder (“{name}”): use {choices}.",
    "err.model.unavailable": "Model “{model}” is not on this machine and cannot be downloaded: download it on a "
                             "connected machine (`python -m app models download {model}`) and ask the administrator "
                             "to set the folder (BUSCA_MODELS_DIR).",
}
