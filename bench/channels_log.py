"""The benchmark archive's content: what is said (real recordings with their reference texts), what
is written on screen (Spanish captions drawn with ffmpeg), and the documentalist's queries for
them. Used by ``bench/channels_archive.py``; nothing here is media.

Spanish speech: Debian's asterisk-core-sounds-es-wav (real recorded phone prompts, CC-BY-SA-3.0);
the reference texts are the package's own ``core-sounds-es.txt`` (accents restored where the
file drops them does not matter: WER is measured without accents). English speech: LibriVox
recordings from Debian's pocketsphinx-testdata with their transcription; codec2's Harvard
sentences (no reference here) only as distractor speech.

Each query is ``(kind, text, translation)``: ``kind`` is ``es`` (Spanish query, Spanish
answer), ``en`` (English query, English answer) or ``x`` (cross-lingual: the query's language
differs from the answer's). The log puts the translation in parentheses, as the original's logs do.
"""

from __future__ import annotations

#: Spanish prompts: asterisk sound name -> queries about what is said.
SPANISH_SPEECH = {
    "tt-weasels": [("es", "las comadrejas se han comido el sistema telefónico", "weasels ate the phone system"),
                   ("x", "weasels have eaten our telephone system", None)],
    "conf-leaderhasleft": [("es", "el líder abandona la conferencia", "the leader has left the conference")],
    "conf-kicked": [("es", "expulsado por el sistema de esta conferencia", "kicked out of the conference")],
    "conf-now-recording": [("es", "aviso de que la conferencia está siendo grabada", "the conference is being recorded"),
                           ("x", "the conference is now being recorded", None)],
    "conf-onlyperson": [("es", "usted es la única persona en la conferencia", "you are the only person")],
    "confbridge-lock-no-join": [("es", "conferencia bloqueada en la que no se puede ingresar", "locked meeting")],
    "demo-echodone": [("es", "prueba del eco completada", "echo test completed"),
                      ("x", "the echo test has been completed", None)],
    "demo-thanks": [("es", "gracias por probar la centralita de código abierto Asterisk", "thanks for trying Asterisk")],
    "dir-nomatch": [("es", "nadie en el directorio corresponde a su búsqueda", "nobody in the directory matches")],
    "followme/status": [("es", "la persona llamada no se encuentra en su escritorio", "not at their desk")],
    "pbx-parkingfailed": [("es", "ha fallado el estacionamiento de la llamada", "call parking failed")],
    "privacy-unident": [("es", "no acepta llamadas no identificadas", "does not accept anonymous calls"),
                        ("x", "the person does not accept unidentified calls", None)],
    "queue-periodic-announce": [("es", "todos nuestros representantes están ocupados", "all agents are busy"),
                                ("x", "all of our representatives are busy, please wait", None)],
    "queue-youarenext": [("es", "su llamada es la primera en la línea", "your call is next in line")],
    "vm-mailboxfull": [("es", "el buzón de esta persona no acepta más mensajes", "the mailbox is full")],
    "vm-marked-urgent": [("es", "mensaje marcado como urgente", "message marked urgent")],
    "vm-newuser": [("es", "bienvenido al correo de voz, proceso de configuración", "welcome to voicemail setup")],
    "vm-nobox": [("es", "el usuario no tiene buzón para mensajes", "the user has no mailbox")],
    "vm-nonumber": [("es", "no sé quién ha enviado este mensaje", "I do not know who sent this message")],
    "vm-tempremoved": [("es", "su saludo temporal ha sido borrado", "temporary greeting removed")],
    "confbridge-pin-bad": [("es", "demasiados números de identificación personal inválidos", "too many invalid PINs")],
    "conf-waitforleader": [("es", "la conferencia comenzará cuando llegue el líder", "starts when the leader arrives")],
    "vm-mismatch": [("es", "las contraseñas que tecleó no coinciden", "the passwords do not match")],
    "conf-noempty": [("es", "no hay conferencias vacías", "no empty conferences")],
}

#: English recordings (pocketsphinx-testdata LibriVox, file stem -> queries).
ENGLISH_SPEECH = {
    "sense_and_sensibility_01_austen_64kb-0870": [
        ("en", "John Dashwood had leisure to consider what was in his power", None)],
    "sense_and_sensibility_01_austen_64kb-0880": [
        ("en", "he was not an ill disposed young man", None),
        ("x", "no era un joven de mala disposición", None)],
    "sense_and_sensibility_01_austen_64kb-0890": [
        ("en", "rather cold hearted and rather selfish", None),
        ("x", "bastante frío de corazón y egoísta", None)],
    "sense_and_sensibility_01_austen_64kb-0920": [
        ("en", "had he married a more amiable woman he might have been more respectable", None)],
    "sense_and_sensibility_01_austen_64kb-0930": [("en", "he might even have been made amiable himself", None)],
}

#: Captions drawn on screen (Spanish, with accents) -> queries about what is written.
CAPTIONS = {
    "AYUNTAMIENTO DE MÁLAGA": [("es", "rótulo del Ayuntamiento de Málaga", "Malaga city hall sign")],
    "MERCADO DE ABASTOS · ABIERTO DE 8 A 14 H": [("es", "cartel del mercado de abastos", "market opening hours")],
    "PELIGRO: ALTA TENSIÓN": [("es", "señal de peligro alta tensión", "danger high voltage"),
                              ("x", "high voltage danger sign", None)],
    "FARMACIA DE GUARDIA": [("es", "farmacia de guardia", "pharmacy on duty")],
    "ESTACIÓN DE AUTOBUSES DE CÓRDOBA": [("es", "estación de autobuses de Córdoba", "Cordoba bus station")],
    "BIDONES DE CLENSEOL · CASABLANCA": [("es", "bidones con la palabra Casablanca", "drums with the word Casablanca")],
    "PROHIBIDO EL PASO A PERSONAS AJENAS A LA OBRA": [("es", "prohibido el paso a la obra", "no entry to the site")],
    "BIBLIOTECA MUNICIPAL JOSÉ SARAMAGO": [("es", "biblioteca municipal José Saramago", "Saramago library")],
    "HUELGA GENERAL 14 DE NOVIEMBRE": [("es", "pancarta de la huelga general de noviembre", "general strike banner")],
    "CAMPEONATO DE ESPAÑA DE CICLISMO": [("es", "campeonato de España de ciclismo", "Spanish cycling championship"),
                                         ("x", "Spanish cycling championship", None)],
    "Entrevista: María Núñez, pescadora de Cádiz": [("es", "entrevista a una pescadora de Cádiz", "fisherwoman interview")],
    "Inundaciones en Valencia, octubre de 1957": [("es", "inundaciones de Valencia en 1957", "Valencia floods 1957")],
    "SALIDA DE EMERGENCIA": [("es", "salida de emergencia", "emergency exit"), ("x", "emergency exit sign", None)],
    "Cooperativa Vinícola de Jumilla": [("es", "cooperativa vinícola de Jumilla", "Jumilla wine cooperative")],
    "CERRADO POR REFORMAS": [("es", "cerrado por reformas", "closed for renovation")],
    "Fábrica de cerámica de Talavera": [("es", "fábrica de cerámica de Talavera", "Talavera ceramics factory")],
    "VENTA DE PISOS · INFORMACIÓN 915 555 012": [("es", "cartel de venta de pisos", "flats for sale sign")],
    "Museo del Ferrocarril de Madrid": [("es", "museo del ferrocarril", "railway museum"),
                                        ("x", "Madrid railway museum", None)],
    "Manifestación por la vivienda digna": [("es", "manifestación por una vivienda digna", "housing protest")],
    "ZONA DE BAJAS EMISIONES": [("es", "zona de bajas emisiones", "low emission zone")],
}

#: Text on the distractor videos: nobody looks for it.
DISTRACTOR_CAPTIONS = ["TELEDIARIO · ÚLTIMA HORA", "Archivo RTVE", "Reportaje: el puerto de Vigo", "FIN"]
