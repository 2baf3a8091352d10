"""What finance staff read: per exception category what to do, outcomes and doors in words (the
formats of dates, amounts and sizes are connectors.norwegian's)."""

from __future__ import annotations

WHAT_TO_DO = {
    "VOUCHER_NOT_FOUND": (
        "Kontroller bilagsnummeret (eller leverandørens organisasjonsnummer og fakturanummeret). "
        "Velg riktig bilag i avvikskøen («Velg bilag»), så laster roboten opp filen ved neste kjøring. "
        "Finnes bilaget ennå ikke, registrer det først og velg «Prøv igjen»."),
    "SEVERAL_CANDIDATES": (
        "Flere bilag passer til opplysningene. Velg riktig bilag i avvikskøen («Velg bilag»), så laster "
        "roboten opp filen ved neste kjøring."),
    "VOUCHER_LOCKED": (
        "Bilaget eller regnskapsperioden er låst. Få perioden åpnet og velg «Prøv igjen» i avvikskøen, "
        "eller velg et annet bilag."),
    "FILE_TYPE_NOT_ALLOWED": (
        "Lagre dokumentet som PDF (eller PNG, JPEG, CSV, XLSX, ODS) og legg det i innboksen på nytt. "
        "Marker deretter saken som behandlet."),
    "FILE_TOO_LARGE": (
        "Gjør filen mindre (skann med lavere oppløsning, eller del dokumentet i flere filer) og legg den "
        "i innboksen på nytt. Marker deretter saken som behandlet."),
    "CORRUPT_FILE": (
        "Filen kan ikke åpnes (skadet, avkortet eller passordbeskyttet). Be avsenderen om en ny kopi uten "
        "passord og legg den i innboksen. Marker deretter saken som behandlet."),
    "UNSAFE_FILE_NAME": (
        "Gi filen et vanlig navn (uten skråstrek, kolon eller usynlige tegn) og legg den i innboksen på "
        "nytt. Marker deretter saken som behandlet."),
    "MANIFEST_ROW_WITHOUT_FILE": (
        "Manifestet nevner en fil som ikke kom med. Finn filen og legg den i innboksen sammen med en ny "
        "manifestrad, eller marker saken som behandlet hvis filen ikke skal lastes opp."),
    "FILE_WITHOUT_MANIFEST_ROW": (
        "Filen står ikke i manifestet, og navnet følger ikke navnekonvensjonen "
        "(<bilagsnummer>_<tekst>.pdf eller <orgnr>_<fakturanummer>_<tekst>.pdf). Velg bilag i "
        "avvikskøen, eller legg filen i innboksen på nytt med en manifestrad."),
    "ATTACHED_ELSEWHERE": (
        "Det samme dokumentet ligger allerede på et annet bilag. Kontroller hvilket bilag som er riktig. "
        "Skal dokumentet også ligge på dette bilaget, velg bilaget i avvikskøen («Velg bilag»)."),
    "SYSTEM_ERROR": (
        "Økonomisystemet svarte ikke etter flere forsøk. Driftsansvarlig følger opp; filen lastes opp når "
        "saken sendes til nytt forsøk («Prøv igjen»)."),
}

OUTCOME_NO = {
    "uploaded": "Lastet opp",
    "already_attached": "Lå allerede på bilaget",
    "quarantined": "Satt i karantene",
    "handled_manually": "Behandlet manuelt",
    "dismissed": "Avvist",
}

DOOR_NO = {"api": "API", "web": "nettleser (robot i webgrensesnittet)", "manual": "manuelt"}
