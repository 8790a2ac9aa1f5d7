"""Fact extraction and the fact-level claim check, Arabic and English side by side (no models)."""

from __future__ import annotations

import pytest

from qa_bot.facts import facts, negations
from qa_bot.translit import readings, skeleton, skeletons_match
from qa_bot.verify import Evidence, check_claim

CONSTITUTION = Evidence(
    1,
    'وقال كيري: "لقد اتفقنا على وجوب أن يكون هناك جدول زمني ومشروع دستور بحلول آب/أغسطس".',
    'Kerry said: "We have agreed that there must be a timetable and a draft constitution by August".',
)
AGREED_WITH = Evidence(
    1,
    "من جهته، قال الوزير الأمريكي إنه اتفق مع بوتين ولافروف على وجوب إعداد مشروع دستور جديد في سوريا بحلول شهر آب/ أغسطس المقبل.",  # noqa: E501
    "For his part, the American secretary said he had agreed with Putin and Lavrov on the need to prepare a draft"
    " of a new constitution in Syria by next August.",
)
NO_DEAL = Evidence(
    1,
    "ولكن القوتين العظميين لم تتوصلا إلى اتفاق بشأن مصير رئيس النظام السوري بشار الأسد، المسألة المركزية في أي تسوية للنزاع.",  # noqa: E501
    "But the two superpowers did not reach an agreement on the fate of the head of the Syrian regime, Bashar"
    " al-Assad, the central issue in any settlement of the conflict.",
)
HOURS = Evidence(
    1,
    "وأتى هذا الإعلان إثر مباحثات استمرت أكثر من أربع ساعات في الكرملين بين الرئيس الروسي فلاديمير بوتين.",
    None,
)
GENEVA = Evidence(1, "وذلك بعدما شهدت جنيف جولة مفاوضات غير مباشرة جديدة بين الطرفين لم تكن مثمرة.", None)
LAST_MEETING = Evidence(
    1,
    "وجرى آخر لقاء بين بوتين وكيري قبل أكثر من ثلاثة أشهر، في أثناء زيارة وزير الخارجية الأمريكي إلى موسكو يوم 15 كانون الأول/ ديسمبر الماضي.",  # noqa: E501
    "The last meeting between Putin and Kerry took place more than three months ago, during the US Secretary of"
    " State's visit to Moscow on December 15 last year.",
)


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("after four hours, by August", {"4", "g8"}),
        ("بعد أربع ساعات، بحلول آب/أغسطس", {"4", "g8"}),
        ("يوم ١٥ كانون الأول/ ديسمبر", {"15", "g12"}),
        ("on December 15 last year", {"15", "g12"}),
        ("ثلاثة آلاف جندي في حزيران", {"3000", "g6"}),
        ("3,000 soldiers in June", {"3000", "g6"}),
        ("في شهر رمضان يوم الخميس", {"h9", "d4"}),
        ("during Ramadan, on Thursday", {"h9", "d4"}),
        ("أربعة وعشرون", {"24"}),
        ("twenty-four", {"24"}),
        ("خمسة عشر عاما", {"15"}),  # the Arabic teens are one number, not 5 and 10
        ("fifteen years", {"15"}),
        ("سرير من منتصف القرن السابع عشر", {"17"}),  # ordinals
        ("a bed from the mid-17th century", {"17"}),
        ("في الحرب العالمية الثانية", {"2"}),
        ("منذ السبعينيات", {"1970"}),  # decades
        ("since the 1970s", {"1970"}),
        ("منذ موسم 1998–1999", {"1998", "1999"}),  # a range of years, its end abbreviated
        ("since the 1998–99 season", {"1998", "1999"}),
        ("على الصفحات 212–219", {"212", "219"}),
        ("في 15 كانون الثاني", {"15", "g1"}),  # الثاني of a month name is not a number
        ("رأس حصان عمره ألفي عام", {"2000"}),  # duals
        ("a 2,000-year-old horse head", {"2000"}),
        ("مئتا رجل ومئتي امرأة", {"200"}),
        ("رسملة بلغت 162,584 مليون يورو", {"162584000000"}),
        ("a capitalization of 162 584 mln EUR", {"162584000000"}),  # thousands set apart by a space
        ("390 بليون شجرة", {"390000000000"}),
        ("390 billion trees", {"390000000000"}),
        ("في القرن التاسع عشر", {"19"}),  # English ordinals as the Arabic ones
        ("in the nineteenth century", {"19"}),
        ("في القرن الحادي والعشرين", {"21"}),
        ("in the twenty-first century", {"21"}),
        ("the tenth anniversary", {"10"}),
        ("a third of the land", {"1/3"}),  # fractions, in both languages
        ("ثلث الأراضي", {"1/3"}),
        ("three quarters of the seats", {"3/4"}),
        ("ثلاثة أرباع المقاعد", {"3/4"}),
        ("في الربع الأول من العام", set()),  # with the article a quarter of the year or a region, no fraction
        ("half of the population", set()),  # half: too idiomatic both ways
        ("Prices fell by a third.", {"1/3"}),  # a fraction said alone
        ("a third party", {"3"}),  # an ordinal before its noun
        ("revenue fell for two quarters", {"2"}),  # quarters of a year
        ("third-quarter profits", {"3"}),
        ("a sixteenth of the land", set()),  # too fine to count
        ("one-sixteenth", set()),
        ("He was twenty-one", {"21"}),
        ("تأهل الفريق إلى ربع النهائي", set()),  # a quarter-final
        ("الساعة الثالثة وربع", {"3"}),  # a quarter past three
        ("plus a tenth category", {"10"}),  # an ordinal after "a" that is none
        ("منذ سبعينيات القرن العشرين", {"1970"}),  # the century says which decade
        ("في ثمانينيات القرن التاسع عشر", {"1880"}),
        ("السبعينيات من القرن التاسع عشر", {"1870"}),
        ("عشرينيات القرن الحادي والعشرين", {"2020"}),
        ("One-third of the budget", {"1/3"}),
        ("two-thirds of the seats", {"2/3"}),
        ("the forty-fifth president", {"45"}),
        ("ارتفع بنسبة 10 في المئة", {"10"}),  # the hundred of a percentage is none
        ("ارتفع 10 بالمائة", {"10"}),
        ("مئة جندي", {"100"}),
    ],
)
def test_numbers_and_dates_have_language_free_keys(text: str, keys: set[str]) -> None:
    found = facts(text)
    assert {f.key for f in found.numbers + found.dates} == keys


def test_may_the_verb_is_not_a_month_and_may_the_month_is() -> None:
    assert not facts("He may come. They may agree.").dates
    assert [f.key for f in facts("The talks began in May 2016.").dates] == ["g5"]


def test_a_weekday_after_an_article_or_inside_a_name_is_part_of_the_name() -> None:
    found = facts("It won the Sunday Times award. Sales fell at the Black Friday Sale.")
    assert not found.dates and [f.surface for f in found.names] == ["Sunday Times", "Black Friday Sale"]
    days = (
        "On Sunday Putin said so.",
        "Sunday, Putin said so.",
        "Last Sunday Putin said so.",
        "Kerry said Sunday Russia would join the talks.",
        "Sunday Kerry met Lavrov in Geneva.",
        "He left. Sunday Putin spoke.",
    )
    for day in days:
        assert [f.key for f in facts(day).dates] == ["d7"], day


@pytest.mark.parametrize(
    ("latin", "arabic"),
    [("Obama", "أوباما"), ("Geneva", "جنيف"), ("Kerry", "كيري"), ("Lavrov", "لافروف"), ("Warsaw", "وارسو")],
)
def test_names_transliterate_to_the_same_skeleton(latin: str, arabic: str) -> None:
    assert skeletons_match(skeleton(latin), skeleton(arabic))


@pytest.mark.parametrize(
    ("latin", "arabic"),
    [
        ("Kraków", "كراكوف"),  # w as v
        ("Qing", "تشينغ"),  # pinyin q
        ("Xining", "شينينغ"),  # pinyin x
        ("Chad", "تشاد"),
        ("Chris", "كريس"),
        ("Mongol", "المغولية"),  # n before g unwritten
    ],
)
def test_other_readings_of_latin_letters(latin: str, arabic: str) -> None:
    assert not skeletons_match(skeleton(latin), skeleton(arabic))  # the plain skeletons differ
    assert any(skeletons_match(shape, skeleton(arabic)) for shape in readings(latin))


def test_a_french_name_may_be_said_without_its_final_s_or_x() -> None:
    from qa_bot.translit import said_without_ending

    assert said_without_ending("Bordeaux") == skeleton("بوردو") and said_without_ending("Lévis") == skeleton("ليفي")
    assert said_without_ending("Hayes") is None and said_without_ending("Kerry") is None  # not those endings


def test_letters_without_an_ascii_decomposition_are_folded() -> None:
    assert skeleton("Bogusławski") == "BGSLSK" and skeletons_match(skeleton("Bogusławski"), skeleton("بوغوسلافسكي"))


def test_different_names_do_not_match() -> None:
    assert not skeletons_match(skeleton("Obama"), skeleton("كيري"))
    assert not skeletons_match(skeleton("Vienna"), skeleton("جنيف"))


def test_english_names_are_capitalised_runs_not_openers_or_titles() -> None:
    names = [f.surface for f in facts("According to the article, President Barack Obama met Kerry in Geneva.").names]
    assert names == ["Barack Obama", "Kerry", "Geneva"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Immunodeficiency occurs when the immune system is less active.", []),  # "immuno" + a dictionary word
        ("Immunosuppressive drugs such as cyclosporin prevent it.", []),
        ("Immunoglobulins exist only in jawed vertebrates.", []),  # ... inflected ("globulin" + s)
        ("Tikrit lies on the Tigris.", ["Tikrit", "Tigris"]),
    ],
)
def test_a_compound_dictionary_word_opening_a_sentence_is_not_a_name(text: str, names: list[str]) -> None:
    assert [f.surface for f in facts(text).names] == names


@pytest.mark.parametrize(
    ("text", "cues"),
    [
        ("the two superpowers did not reach an agreement", ["not"]),
        ("القوتين العظميين لم تتوصلا إلى اتفاق", ["لم"]),
        ("disagreements that still remain, not only on NATO", []),
        ("الخلافات التي مازالت قائمة، لا سيما حول الناتو", []),
        ("القوة جزء لا يتجزأ من علم الكونيات", []),  # "integral"
        ("a force as an integral part of cosmology", []),
    ],
)
def test_negation_cues_skip_idioms(text: str, cues: list[str]) -> None:
    assert [c for _, c in negations(text)] == cues


@pytest.mark.parametrize(
    ("claim", "source", "reason"),
    [
        ("Kerry said there must be a draft constitution by June.", CONSTITUTION, "date 'June' not in source [1]"),
        ("قال كيري إنه يجب أن يكون هناك مشروع دستور بحلول حزيران/يونيو.", CONSTITUTION, "date 'حزيران"),
        ("The talks in the Kremlin lasted more than six hours.", HOURS, "number 'six' not in source [1]"),
        ("استمرت المباحثات أكثر من ست ساعات في الكرملين.", HOURS, "number 'ست' not in source [1]"),
        ("Vienna hosted a new round of indirect negotiations.", GENEVA, "name 'Vienna' not in source [1]"),
        ("The last meeting was on December 25.", LAST_MEETING, "number '25' not in source [1]"),
        ("Obama said there must be a draft constitution by August.", CONSTITUTION, "name 'Obama' not in source [1]"),
        (
            'قال الوزير الأمريكي إن "الرئيس بوتين" و"أوباما" اتفقا على وجوب إعداد مشروع دستور جديد في سوريا',
            AGREED_WITH,
            "name 'أوباما' not in source [1]",
        ),
        ("Yes, the two sides reached an agreement on Assad.", NO_DEAL, "drops the negation"),
        (
            "ولكن القوتين العظميين توصلتا إلى اتفاق بشأن مصير رئيس النظام السوري بشار الأسد.",
            NO_DEAL,
            "drops the negation",
        ),
        (
            "The American secretary did not agree with Putin and Lavrov on a new constitution.",
            AGREED_WITH,
            "negation 'not'",
        ),
        ("The meeting lasted exactly nine hours.", None, "no citation"),
    ],
)
def test_a_changed_fact_is_rejected_with_a_reason(claim: str, source: Evidence | None, reason: str) -> None:
    verdict = check_claim(claim, [source] if source else [], support=0.9)
    assert verdict.supported is False and verdict.reason is not None and reason in verdict.reason


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("Kerry said there must be a timetable and a draft constitution by August.", CONSTITUTION),
        ("قال كيري إنه يجب أن يكون هناك جدول زمني ومشروع دستور بحلول آب/أغسطس.", CONSTITUTION),
        ("The two superpowers did not reach an agreement on the fate of Assad.", NO_DEAL),
        ("ولكن القوتين العظميين لم تتوصلا إلى اتفاق بشأن مصير الأسد.", NO_DEAL),
        ("The American secretary agreed with Putin and Lavrov on a new constitution for Syria by August.", AGREED_WITH),
        ("The talks in the Kremlin lasted more than four hours.", HOURS),  # English over Arabic only
        ("Geneva hosted a new round of indirect negotiations.", GENEVA),
        ("The last meeting between Putin and Kerry was on December 15.", LAST_MEETING),
    ],
)
def test_a_faithful_claim_is_kept(claim: str, source: Evidence) -> None:
    verdict = check_claim(claim, [source], support=0.9)
    assert verdict.supported and verdict.reason is None


def test_low_similarity_is_still_a_reason() -> None:
    verdict = check_claim("Kerry said there must be a timetable by August.", [CONSTITUTION], support=0.1)
    assert not verdict.supported and verdict.reason and "support 0.10" in verdict.reason


def test_a_word_set_holds_its_words_and_no_others() -> None:
    from qa_bot.facts import WordSet

    words = [f"word{i}" for i in range(5000)]
    held = WordSet(words[::2] + words[::4])  # repeats count once
    assert len(held) == 2500
    assert all(w in held for w in words[::2])
    assert not any(w in held for w in words[1::2])
    assert "" not in held and 3 not in held


@pytest.mark.parametrize(
    ("word", "foreign"),
    [
        ("لافروف", True),
        ("أنابوليس", True),
        ("فرانسيس", True),
        # Arabic patterns that write two long vowels: مفاعيل, أفاعل, فعلاء — words of the language
        ("لمعايير", False),
        ("تقارير", False),
        ("أوائل", False),
        ("البيضاء", False),
        ("الأشياء", False),
        ("باجتياز", False),  # افتعال after a clitic
        ("هويتها", False),  # ة before a pronoun
        ("بيونغيانغ", True),  # ب of the name, not a clitic
    ],
)
def test_a_word_is_spelled_like_a_foreign_name_unless_an_arabic_pattern_writes_its_long_vowels(
    word: str, foreign: bool
) -> None:
    from qa_bot.translit import foreign_spelling

    assert foreign_spelling(word) is foreign
