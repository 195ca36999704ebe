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
}
