"""The detector the language walk uses finds an English sentence left on a page in Spanish, French or
Dutch, and takes no sentence of those languages for English."""

from __future__ import annotations

import pytest

from tests.browser.english import english_sentences

# Every test of the portal's folder has the demo nation's exchange in its database.
pytestmark = pytest.mark.django_db

PLANTED = [
    "Share your data with Republic of XA?",
    "Enter the 6-digit code from your app.",
    "The page you asked for is not here.",
    "Ministry of Social Development",
    "Who used my data",
]

OWN = {
    "es": [
        "¿Compartir sus datos con la República de XA?",
        "Escriba el código de 6 cifras de su aplicación.",
        "Por ejemplo, 12 Bay Street",
        "Ha usado sus datos el Registro Civil",
        "No se ha encontrado la página",
    ],
    "fr": [
        "Partager vos données avec la République de XA ?",
        "Saisissez le code à 6 chiffres de votre application.",
        "La page que vous avez demandée n'existe pas.",
        "On a utilisé vos données : Office de l'état civil",
        "Continuer vers votre compte",
    ],
    "nl": [
        "Uw gegevens delen met de Republiek XA?",
        "Is dit uw adres of was het uw vorige adres?",
        "Wie heeft mijn data gebruikt",
        "Voer de code van 6 cijfers uit uw app in.",
        "We hebben uw adreswijziging ontvangen. Kenmerk: A-1234.",
    ],
}


@pytest.mark.parametrize("language", ["es", "fr", "nl"])
def test_an_english_sentence_is_found_on_a_page_of_another_language(language: str) -> None:
    found = english_sentences([*OWN[language], *PLANTED], language=language)
    assert found == PLANTED


@pytest.mark.parametrize("language", ["es", "fr", "nl"])
def test_sentences_of_the_page_language_are_not_taken_for_english(language: str) -> None:
    assert english_sentences(OWN[language], language=language) == []


def test_codes_addresses_and_the_platform_name_pass() -> None:
    runs = ["gov21", "UIN 4829175036", "12 Harbour Road, Mango Walk", "GOV21:eyJhbGciOi.x.y", "English"]
    assert english_sentences(runs, language="es") == []


def test_the_letters_inside_a_code_are_no_words() -> None:
    # A TOTP key in base32 holds "DO" and "I"; a sentence around it in French stays French, and an
    # English sentence around it is still found.
    key = "JNNTFE6D6RZBA2HL45DO6I5Y77BZI4IV"
    french = f"Impossible de scanner ? Saisissez cette clé dans l'application : {key}"
    english = f"Cannot scan? Enter this key in your app: {key}"
    assert english_sentences([french, "DOIBZIIVDOXX"], language="fr") == []
    assert english_sentences([english], language="fr") == [english]
