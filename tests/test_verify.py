"""The claim check's rules one by one, Arabic and English side by side (no models): names across
scripts, swaps within the restated sentence, the scope of a negation."""

from __future__ import annotations

import pytest
from langchain_core.embeddings import Embeddings

from qa_bot.facts import Word, normalise
from qa_bot.pool import arabic_found, build_pool, latin_found
from qa_bot.translit import skeleton, skeletons_match
from qa_bot.verify import Evidence, Verdict, check_claim, support_score

KREMLIN = Evidence(
    1,
    "وأتى هذا الإعلان إثر مباحثات استمرت أكثر من أربع ساعات في الكرملين بين الرئيس الروسي فلاديمير بوتين.",
    "The announcement came after more than four hours of talks in the Kremlin with Russian President"
    " Vladimir Putin, during the truce in Syria.",
)
AGREED_WITH = Evidence(
    1,
    "من جهته، قال الوزير الأمريكي إنه اتفق مع بوتين ولافروف على وجوب إعداد مشروع دستور جديد في سوريا بحلول شهر آب.",
    "For his part, the American secretary said he had agreed with Putin and Lavrov on the need to prepare a draft"
    " of a new constitution in Syria by next August.",
)
CITIZENS = Evidence(
    1,
    "وتابع كيري أن الأحداث في سوريا تمثل خطرا على روسيا، نظرا لوجود آلاف المواطنين الروس في صفوف التنظيمات.",
    "Kerry said that the events in Syria pose a danger to Russia, given that thousands of Russian citizens are in"
    " the ranks of the organisations.",
)
LEDGER = Evidence(
    1,
    "وهي نظام يعمل دون مستودع مركزي، أي أنها تختلف عن العملات التقليدية بعدم وجود هيئة مركزية تقف خلفها.",
    "It is a system that works without a central repository, unlike traditional currencies, with no central"
    " authority behind it.",
)


def _assert_reason(verdict: Verdict, reason: str | None) -> None:
    """Supported when `reason` is None; otherwise unsupported for a reason that says `reason`."""
    if reason is None:
        assert verdict.reason is None, verdict.reason
    else:
        assert verdict.reason is not None and reason in verdict.reason, verdict.reason


def _word(arabic: str) -> Word:
    return Word(arabic, 0, normalise(arabic), True)


@pytest.mark.parametrize(
    ("word", "text", "found"),
    [
        ("Syrian", "زار الوفد سوريا الأسبوع الماضي", True),  # the adjective without its ending
        ("Chris", "زار الوفد سوريا الأسبوع الماضي", False),  # not "Chr" + "is"
        ("American", "قال الوزير الأمريكي", True),
        ("Immunosuppressive", "وهو الدواء المناسب", False),  # "مناسب" only starts its skeleton
        ("Bordeaux", "وصل إلى بوردو", True),  # a final x French does not say
        ("Louis", "بقيادة اللواء لوي جوزيف", None),  # said "Lou-ee": one consonant, nothing to compare
        ("Lévis", "ينوبه الفارس دي ليفي", True),  # two consonants said alike, vowels where the name has them
        ("Lévis", "ينوبه الفارس دي لافي", False),  # ا where the name says e
        ("Lewis", "بقيادة اللواء جوزيف", None),  # -is, said the French way: one consonant left
        ("Hayes", "بقيادة اللواء جوزيف", False),  # a final s French would say: the name as written
        ("Hugues", "بقيادة اللواء جوزيف", False),
        ("Lech", "وصل إلى مدينة ليخ", True),  # other readings of two consonants still count (ch as kh)
        ("Kerry's", "قال كيري إن الاتفاق صامد", True),  # a possessive: the name without its s
        ("Urgench", "تسببت غزوات بغداد وأورقنج في عمليات قتل", True),  # two readings at once: g as ق, ch as ج
        ("Genghis", "استمر تطور النظريات الأساسية للقوة", False),  # not "Gengh(is)" read twice over: KH, القوة
        ("Gary", "وقع الوزير قرار الحرب", False),  # g as ق only where three consonants remain: not قرار
        ("Chad", "كان الاتفاق جيدا", None),  # nor ch as ج: not جيد
        ("Doris", "فاز النادي ببطولة الدوري", False),  # two consonants, vowels alike, but with the article
        ("Chris", "قال إن هذا سري", False),  # one long vowel: written as Arabic words are
        ("Al-Assad", "قال الأسد إن الحرب انتهت", True),
        ("Portuguese", "يتحدث سكان بريطانيا الإنجليزية", False),  # "Portugu" BRTG is not بريطانيا BRTN
        ("Portuguese", "وصلت السفن البرتغالية إلى الهند", True),
    ],
)
def test_an_english_name_over_arabic_text(word: str, text: str, found: bool | None) -> None:
    assert latin_found(word, build_pool("[1]", [text]), cross=True) is found


@pytest.mark.parametrize(
    ("arabic", "english", "found"),
    [
        ("كيري", "Kerry met the minister.", True),
        ("بيرو", "Kerry visited Paris.", False),  # not "Paris" said without its s
        ("مالي", "President Miles said so.", False),
        ("بشار", "The truce in Syria held.", False),  # not ب + "شار" (SR, the skeleton of Syria)
        ("بوتين", "The truce in Syria held.", False),
    ],
)
def test_an_arabic_name_over_its_translation(arabic: str, english: str, found: bool) -> None:
    assert arabic_found(_word(arabic), build_pool("[1]", [english])) is found


NETWORKS = Evidence(1, "بدأت أيه بي سي في السبعينيات باجتياز سي بي أس وإن بي سي في التصنيفات.", None)
ANNOUNCED = Evidence(1, "أعلنت الشبكة الأمريكية عن برنامج جديد في السبعينيات.", None)
MUSEUM = Evidence(
    1, "يقع المتحف في سوق الجزارين قرب المحطة، وافتتح عام 1852 باسم متحف المصنوعات على موقع البرلمان.", None
)


@pytest.mark.parametrize(
    ("claim", "source", "reason"),
    [
        # initialisms: spelled out in Arabic letter names, so one the source does not spell is not there
        ("In the 1970s ABC began to pass CBS and NBC in the ratings.", NETWORKS, None),
        ("In the 1970s ABC began to pass UPT and NBC in the ratings.", NETWORKS, "name 'UPT' not in source [1]"),
        ("In the 1970s the NBC network announced a new show.", ANNOUNCED, None),  # no initialism spelled: unchecked
        ("In the 1970s ABC's CEO began to pass CBS and NBC.", NETWORKS, None),  # CEO is translated, not spelled
        # a hyphenated name's parts are found in the translation's hyphenated word
        (
            "It had to sell WABC-TV.",
            Evidence(1, "كان عليها بيع محطة دبليو أيه بي سي تي في.", "It had to sell either WABC-TV or WABD."),
            None,
        ),
        # an organisation news names in Arabic is found by its Arabic name (لجنة الاتصالات الفيدرالية)
        (
            "ABC waited for the FCC's decision.",
            Evidence(1, "انتظرت أيه بي سي قرار لجنة الاتصالات الفيدرالية.", None),
            None,
        ),
        (
            "ABC waited for the FBI's decision.",
            Evidence(1, "انتظرت أيه بي سي قرار لجنة الاتصالات الفيدرالية.", None),
            "name 'FBI's' not in source",
        ),
        ("The IMF lent Egypt money.", Evidence(1, "أقرض صندوق النقد الدولي مصر مالا.", None), None),
        ("The IMF lent Egypt money.", Evidence(1, "أقرض البنك الدولي مصر مالا.", None), "name 'IMF' not in source"),
        # ... and so are countries: one of their Arabic names is enough
        ("The US backs the truce.", Evidence(1, "قالت واشنطن إن القوات الأمريكية باقية.", None), None),
        ("The UN backs the truce.", Evidence(1, "قالت واشنطن إن القوات الأمريكية باقية.", None), "name 'UN'"),
        # a name of dictionary words: translated, so one of its words at least must be in the source
        ("The museum is in the Butcher Market near the station.", MUSEUM, None),
        ("The museum is in the Central Library near the station.", MUSEUM, "name 'Central Library' not in source"),
        ("It opened in 1852 as the Museum of Manufactures.", MUSEUM, None),  # مصنوعات, not the dictionary's صناعة
        ("It opened in 1852 on the Parliamentary site.", MUSEUM, None),  # the adjective through "parliament"
        ("The museum is in the Fish Market near the Central Library.", MUSEUM, "name 'Central Library'"),
        ("Major museums opened in 1852.", MUSEUM, None),  # one dictionary word opening the sentence
        # a dictionary word the dictionary cannot render: unchecked beside a part found by its sound
        # (translated there), but alone in a name's place it must be found like any name
        (
            "The road runs from Fresno Street in Southwest Fresno.",
            Evidence(1, "يمتد الطريق من شارع فريسنو في جنوب غرب فريسنو.", None),
            None,
        ),
        (
            "He was saved by his protector, Medieval of the Keraite tribe.",
            Evidence(1, "أنقذه حاميه طغرل خان من قبيلة كيراتي.", None),
            "name 'Medieval'",
        ),
        # a plain dictionary word the bilingual dictionary cannot render is translated: unchecked
        (
            "Companies looked for oil even in the Arctic.",
            Evidence(1, "بحثت الشركات عن النفط حتى في القطب الشمالي.", None),
            None,
        ),
        # a lowercase part of a hyphenated word is no name part; a one-consonant word ("Wear" ووير)
        # cannot be told by its sound nor asked for through the dictionary
        (
            "Quebec still had a large French-speaking population.",
            Evidence(1, "ولا يزال في كيبيك عدد كبير من الناطقين بالفرنسية.", "Many in Quebec still spoke French."),
            None,
        ),
        (
            "The metro covers much of Tyne and Wear.",
            Evidence(1, "يغطي المترو مساحة كبيرة من تاين ووير.", None),
            None,
        ),
        (
            "The metro covers much of Tyne and Portuguese.",
            Evidence(1, "يغطي المترو مساحة كبيرة من تاين ووير في بريطانيا.", None),
            "name 'Portuguese'",
        ),
        # a root only from a derived form: حسب ("according to") does not render "Computing"
        (
            "Engineering News (Computing) is a trade magazine.",
            Evidence(1, "حسب أخبار الهندسة، هي مجلة تجارية.", None),
            "name 'Computing'",
        ),
        # two consonants name a word that opens the way the name does: "Russia" is not فـ + يروس
        # (فيروس "virus"), though "Wales" is ويلز and "Russia" روسيا
        ("Diseases include Russia fever.", Evidence(1, "تشمل الأمراض فيروس الحمى.", None), "name 'Russia'"),
        ("Diseases include Russia fever.", Evidence(1, "تشمل الأمراض في روسيا الحمى.", None), None),
        ("Teachers in Wales are younger.", Evidence(1, "المدرسون في ويلز أصغر سنا.", None), None),
        # a dictionary word is found as written, not one letter off: "Medicine" is not مدرسين
        (
            "Attacks on teachers in Medicine schools rose.",
            Evidence(1, "ازدادت حالات التهجم على المدرسين بمدارس ويلز.", None),
            "name 'Medicine'",
        ),
    ],
)
def test_names_across_scripts(claim: str, source: Evidence, reason: str | None) -> None:
    verdict = check_claim(claim, [source], support=0.9)
    _assert_reason(verdict, reason)
    assert verdict.supported is (reason is None)


@pytest.mark.parametrize(
    ("number", "source", "found"),
    [
        ("281,754", "كان هناك 281.754 يهودياً", True),  # a dot as thousands separator
        ("281,755", "كان هناك 281.754 يهودياً", False),
        ("1.5", "يمتص الأمازون 1.5 مليار طن من ثاني أكسيد الكربون", True),  # "1.5 gigatons"
        ("1.5 million", "يمتص الأمازون 1.5 مليار طن من ثاني أكسيد الكربون", False),
    ],
)
def test_a_number_read_another_way_in_an_arabic_source(number: str, source: str, found: bool) -> None:
    verdict = check_claim(f"There were {number} of them.", [Evidence(1, source, None)], support=0.9)
    assert (verdict.reason is None or "number" not in verdict.reason) is found


def test_a_prefix_match_allows_an_ending_not_a_longer_word() -> None:
    assert skeletons_match(skeleton("American"), skeleton("أمريكي"), prefix=True)
    assert not skeletons_match(skeleton("Immunosuppressive"), skeleton("مناسب"), prefix=True)
    # another reading of a word's letters counts only as it is ("French" read FRNTS is not فانتاسي)
    assert skeletons_match("FRNTS", skeleton("فانتاسي")) and not skeletons_match(
        "FRNTS", skeleton("فانتاسي"), edits=False
    )


@pytest.mark.parametrize(
    ("claim", "source", "reason"),
    [
        (
            "وأتى هذا الإعلان إثر مباحثات استمرت أكثر من أربع ساعات في بشار بين الرئيس الروسي فلاديمير بوتين.",
            KREMLIN,
            "name 'بشار' not in source [1]",  # a proper noun of the Arabic lexicon, as Damascus is
        ),
        (
            "The announcement came after more than four hours of talks in Damascus with Russian President"
            " Vladimir Putin, during the truce in Syria.",
            KREMLIN,
            "name 'Damascus' not in source [1]",
        ),
        # a name of the same sentence put in the place of another (counted, not just looked up)
        (
            "من جهته، قال الوزير بوتين إنه اتفق مع بوتين ولافروف على وجوب إعداد مشروع دستور جديد في سوريا بحلول شهر آب.",  # noqa: E501
            AGREED_WITH,
            "'بوتين' where source [1] has 'الأمريكي'",
        ),
        (
            "For his part, the Putin's secretary said he had agreed with Putin and Lavrov on the need to prepare a"
            " draft of a new constitution in Syria by next August.",
            AGREED_WITH,
            "name 'Putin's' where source [1] has 'American'",
        ),
        (  # "Syrian" is not "Syria", which the sentence also has
            "Kerry said that the events in Syria pose a danger to Russia, given that thousands of Syrian citizens"
            " are in the ranks of the organisations.",
            CITIZENS,
            "name 'Syrian' where source [1] has 'Russian'",
        ),
    ],
)
def test_a_swapped_name_is_rejected(claim: str, source: Evidence, reason: str) -> None:
    verdict = check_claim(claim, [source], support=0.9)
    assert not verdict.supported and verdict.reason is not None and reason in verdict.reason


@pytest.mark.parametrize(
    "claim",
    [
        # the negation dropped before "مستودع"/"central": the one further on governs other words
        "وهي نظام يعمل مستودع مركزي، أي أنها تختلف عن العملات التقليدية بعدم وجود هيئة مركزية تقف خلفها.",
        "It is a system that works with a central repository, unlike traditional currencies, with no central"
        " authority behind it.",
    ],
)
def test_a_negation_dropped_where_another_follows_is_rejected(claim: str) -> None:
    verdict = check_claim(claim, [LEDGER], support=0.9)
    assert not verdict.supported and verdict.reason is not None and "drops the negation" in verdict.reason


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("وهي نظام يعمل دون مستودع مركزي، أي أنها تختلف عن العملات التقليدية بعدم وجود هيئة مركزية.", LEDGER),
        ("It is a system that works without a central repository, with no central authority behind it.", LEDGER),
        ("قال الوزير الأمريكي إنه اتفق مع بوتين ولافروف على مشروع دستور جديد في سوريا.", AGREED_WITH),
        ("The American secretary said he agreed with Putin and Lavrov on a new constitution in Syria.", AGREED_WITH),
        ("Thousands of Russian citizens are in the ranks of the organisations, Kerry said.", CITIZENS),
    ],
)
def test_the_faithful_restatement_is_kept(claim: str, source: Evidence) -> None:
    verdict = check_claim(claim, [source], support=0.9)
    assert verdict.supported and verdict.reason is None, verdict.reason


def test_a_synonym_is_no_swap() -> None:
    source = Evidence(1, "ومنذ ذلك الحين، وإلى غاية الآن، تم الاعتراف بالنسبية العامة.", None)
    claim = "ومنذ ذلك الحين، وإلى غرض الآن، تم الاعتراف بالنسبية العامة."  # غاية and غرض are synonyms.txt's
    assert check_claim(claim, [source], support=0.9).supported


CHURCHES = Evidence(
    1, "بعد الحرب، لم تشجع السلطات الشيوعية الجديدة بناء الكنائس ولم يتم إعادة بناء سوى عدد قليل منها.", None
)
PARTNERS = Evidence(1, "كان هناك 12843 من الشراكات دون زواج بين الذكر والأنثى، و1388 من الشراكات بين المثليين.", None)
CONQUESTS = Evidence(
    1, "على عكس الاعتقاد الشائع، لم يغز جنكيز خان جميع المناطق التي كانت جزءا من الإمبراطورية المغولية.", None
)


EINSTEIN = Evidence(1, "حاول أينشتاين وفشل في هذا المسعى.", None)
PROMISE = Evidence(
    1, "على الرغم من الوعد بعدم التدخل بين أيه بي سي ويو بي تي فقد اضطر غولدينسون إلى التدخل في قرارات أيه بي سي.", None
)


def _only(claim: str, sentences: object) -> int:
    return 0  # the one sentence of these sources


@pytest.mark.parametrize(
    ("claim", "source", "reason"),
    [
        # an English word that says the negation, and "only" for لم … سوى
        (
            "After the war, the communist authorities discouraged church building and only a few were rebuilt.",
            CHURCHES,
            None,
        ),
        (
            "After the war, the communist authorities encouraged church building and many were rebuilt.",
            CHURCHES,
            "drops",
        ),
        # "not" over words the Arabic states with no negation before them (through the dictionary, or a number)
        ("There were 12,843 unmarried partnerships and 1,388 same-sex partnerships.", PARTNERS, None),
        ("There were not 12,843 unmarried partnerships.", PARTNERS, "negation 'not' not in source [1]"),
        (
            "Genghis Khan did not conquer all the areas of the Mongol Empire.",
            CONQUESTS,
            None,
        ),  # لم … a verb-first clause
        # a word the source states both negated and not: "not" over it is not in the source
        ("Despite the promise of non-interference, Goldenson had to intervene in ABC's decisions.", PROMISE, None),
        ("Despite the promise of non-interference, Goldenson had not to intervene.", PROMISE, "negation 'not'"),
        ("Despite the promise not to intervene, Goldenson had to intervene in ABC's decisions.", PROMISE, None),
        # a word undone by an affix says the negation ("unaided" دون), a word that merely starts like one does not
        (
            "In GR, gravitation is viewed as a force; objects travel under their own inertia.",
            Evidence(1, "في النسبية العامة، لا يُنظر إلى الجاذبية كقوة، بل تنتقل الأجسام تحت تأثير قصورها.", None),
            "drops the negation",
        ),
        (
            "In GR, gravitation is unseen as a force; objects travel under their own inertia.",
            Evidence(1, "في النسبية العامة، لا يُنظر إلى الجاذبية كقوة، بل تنتقل الأجسام تحت تأثير قصورها.", None),
            None,
        ),
        # فشل says a negation: the claim must say it too
        ("Einstein tried and failed at this endeavor.", EINSTEIN, None),
        ("Einstein tried and succeeded at this endeavor.", EINSTEIN, "drops the negation"),
    ],
)
def test_negation_across_scripts(claim: str, source: Evidence, reason: str | None) -> None:
    verdict = check_claim(claim, [source], support=0.9, nearest=_only)
    _assert_reason(verdict, reason)


class _Vectors(Embeddings):
    """Embeddings from a table: each text its own unit vector, unless the table pairs it."""

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.table.get(t, [0.0, 0.0, 1.0]) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def test_a_claim_over_text_in_the_other_script_is_also_compared_sentence_by_sentence() -> None:
    passage = "يضم المتحف مجموعة كبيرة من الأزياء. وتعرض أيضا أمثلة من الملابس."
    claim = "Examples of clothing are also displayed."
    table = {claim: [1.0, 0.0, 0.0], passage: [0.6, 0.8, 0.0], "وتعرض أيضا أمثلة من الملابس.": [1.0, 0.0, 0.0]}
    assert support_score(claim, [passage], _Vectors(table)) == pytest.approx(1.0)
    # with a translation in the claim's script, overlap and similarity with the passages as before
    english = "The museum has a large costume collection. Examples of clothing are also displayed."
    table[english] = [0.6, 0.8, 0.0]
    assert support_score(claim, [passage, english], _Vectors(table)) == pytest.approx(0.5 * 1.0 + 0.5 * 0.6)


TEMUJIN = Evidence(
    1,
    "وكانت حياة تيموجين على مدار العشر سنوات التالية غير واضحة، وقد هزمه جيش من ثلاثين ألف جندي.",
    "The life of Temüjin for the next ten years is very unclear; an army of thirty thousand soldiers defeated him"
    " after he married Börte's sister.",
)


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        ("The life of Temüjin for the next ten years is very unclear.", None),
        ("The life of Three's Company for the next ten years is very unclear.", "name 'Three's Company'"),  # ثلاث
        ("وكانت حياة تيموجين على مدار العشر سنوات التالية غير واضحة.", None),
        # not ل + ابوراتوريز, one edit from "Börte's"
        ("وكانت حياة لابوراتوريز على مدار العشر سنوات التالية غير واضحة.", "'لابوراتوريز'"),
    ],
)
def test_a_name_is_not_found_through_a_number_word_or_a_clitic(claim: str, reason: str | None) -> None:
    source = Evidence(1, TEMUJIN.text, None) if claim.isascii() or "Temüjin" in claim else TEMUJIN
    verdict = check_claim(claim, [source], support=0.9)
    _assert_reason(verdict, reason)


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("According to the article, the results were published in Science.", "The results were published in Science."),
        ("وفقا للمقال، نشرت النتائج في مجلة العلوم.", "نشرت النتائج في مجلة العلوم."),
    ],
)
def test_an_attribution_is_not_counted_as_words_the_source_lacks(claim: str, source: str) -> None:
    table = {claim: [1.0, 0.0], source: [1.0, 0.0]}
    assert support_score(claim, [source], _Vectors(table)) == pytest.approx(1.0)


SCHOOLS = Evidence(
    1,
    "المدارس الخاصة هي مدارس ثانوية يديرها أفراد أو منظمات خاصة.",
    "Private schools are secondary schools run by private individuals or organizations.",
)


def test_a_country_named_in_common_words_is_checked_in_arabic_too() -> None:
    source = Evidence(1, "أعلنت الولايات المتحدة انتهاء العملية.", None)
    assert check_claim("أعلنت الولايات المتحدة انتهاء العملية.", [source], 0.9).reason is None
    europe = Evidence(1, "وقال الاتحاد الأوربي إنه يرحب بالاتفاق.", None)  # another listed spelling
    assert check_claim("وقال الاتحاد الأوروبي إنه يرحب بالاتفاق.", [europe], 0.9).reason is None
    # the name's words one after the other, not المملكة … المتحدة of two other names
    others = Evidence(1, "أعلنت الولايات المتحدة والمملكة العربية السعودية انتهاء العملية.", None)
    verdict = check_claim("أعلنت المملكة المتحدة انتهاء العملية.", [others], 0.9)
    assert verdict.reason is not None and "'المملكة المتحدة'" in verdict.reason
    verdict = check_claim("أعلنت الأمم المتحدة انتهاء العملية.", [source], 0.9)
    assert verdict.reason is not None and "'الأمم المتحدة'" in verdict.reason


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        ("Private schools are secondary schools run by private individuals or organizations.", None),
        ("Tibet are secondary schools run by private individuals or organizations.", "name 'Tibet' where"),
        ("المدارس الخاصة هي مدارس ثانوية يديرها أفراد أو منظمات خاصة.", None),
        ("التبت هي مدارس ثانوية يديرها أفراد أو منظمات خاصة.", "name 'التبت' not in source"),  # a proper noun
    ],
)
def test_a_word_no_source_has_put_first_in_the_sentence(claim: str, reason: str | None) -> None:
    verdict = check_claim(claim, [SCHOOLS], support=0.9)
    _assert_reason(verdict, reason)


@pytest.mark.parametrize(
    ("word", "text", "found"),
    [
        ("Duquesne", "وأرسل الحاكم دوكان قوات فرنسية إضافية", True),  # a silent s
        ("Semper", "قام المهندس المعماري الألماني غوتفريت زيمبا بوضع تصميم", True),  # a final r
        ("Mendota", "وقد مدت الطريق إلى الغرب", False),  # not against a native word (مدت: no long vowel)
    ],
)
def test_a_weak_letter_arabic_does_not_write(word: str, text: str, found: bool) -> None:
    assert latin_found(word, build_pool("[1]", [text]), cross=True) is found


@pytest.mark.parametrize(
    ("claim", "source", "reason"),
    [
        # a weekday that opens a name the Arabic spells by its sound: a name, not a date
        (
            "It won the coveted Sunday Times University of the Year award in 2000.",
            "إذ فازت بجائزة صانداي تايمز لجامعة العام في عام 2000.",
            None,
        ),
        # the same words where the Arabic translates the weekday: a date, and the wrong one
        ("Kerry said on Sunday Russia would join the talks.", "قال كيري يوم السبت إن روسيا ستنضم للمحادثات.", "date"),
        ("Kerry said on Saturday Russia would join the talks.", "قال كيري يوم السبت إن روسيا ستنضم للمحادثات.", None),
        # the weekday and the name spelled by sound but not side by side (فريدة "unique", لافروف apart)
        ("Kerry said on Friday Lavrov would join.", "قال كيري يوم السبت إن لافروف سينضم، في خطوة فريدة.", "date"),
    ],
)
def test_a_weekday_spelled_by_its_sound_is_part_of_a_name(claim: str, source: str, reason: str | None) -> None:
    verdict = check_claim(claim, [Evidence(1, source, None)], support=0.9)
    assert verdict.reason == reason if reason is None else (verdict.reason or "").startswith(reason)


# A surname that is also a dictionary word (Webster's has macron, maduro, peres …) is still a name to find
@pytest.mark.parametrize("name", ["Macron", "Kissinger", "Maduro", "Peres", "Schiller"])
def test_a_name_that_is_also_a_webster_word_is_still_checked(name: str) -> None:
    verdict = check_claim(
        f"The minister met {name} in Cairo.", [Evidence(1, "التقى الوزير بلينكن في القاهرة.", None)], 0.9
    )
    assert verdict.reason is not None and f"name '{name}'" in verdict.reason


# An initialism is found by every word of one of its Arabic names, not by a sibling organisation's
# name, and its names are asked before a vowel initialism is read as a word (SEC is not any سوق)
@pytest.mark.parametrize(
    ("letters", "source"),
    [
        ("WTO", "أعلنت منظمة الصحة العالمية الجائحة"),
        ("ICJ", "أصدرت المحكمة الجنائية الدولية مذكرة اعتقال"),
        ("ECB", "رفع البنك المركزي المصري أسعار الفائدة"),
        ("IAEA", "قالت الوكالة الدولية للطاقة إن الطلب سيرتفع"),
        ("NSA", "حذر مجلس الأمن القومي من هجوم"),
        ("SEC", "غرمت هيئة الرقابة المالية البنك بعد انهيار السوق"),
    ],
)
def test_an_initialism_is_not_found_through_another_organisations_name(letters: str, source: str) -> None:
    assert latin_found(letters, build_pool("[1]", [source]), cross=True) is False


# ... and common spellings of those names are listed
@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("The USSR collapsed in 1991.", "انهار الاتحاد السوفياتي عام 1991."),
        ("The EU imposed sanctions.", "فرض الاتحاد الأوربي عقوبات."),
    ],
)
def test_an_initialism_is_found_by_a_common_spelling_of_its_name(claim: str, source: str) -> None:
    assert check_claim(claim, [Evidence(1, source, None)], 0.9).reason is None


# A word the source negates once and states once unnegated: a claim negating it once is kept
def test_a_negated_claim_is_kept_when_the_word_recurs_unnegated_elsewhere() -> None:
    source = "لم ترفع الشركة أسعارها هذا العام، بينما ترفع الشركات المنافسة أسعارها كل عام."
    verdict = check_claim(
        "The company did not raise its prices this year.", [Evidence(1, source, None)], 0.9, nearest=_only
    )
    assert verdict.reason is None


# A reversative un- verb or a -less word that negates nothing does not excuse a dropped negation
@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("The minister unveiled the plan on Monday.", "لم يكشف الوزير عن الخطة يوم الاثنين."),
        ("The firm sells wireless phones in Egypt.", "لا تبيع الشركة الهواتف في مصر."),
    ],
)
def test_a_word_that_only_starts_or_ends_like_a_negation_does_not_excuse_a_dropped_one(claim: str, source: str) -> None:
    verdict = check_claim(claim, [Evidence(1, source, None)], 0.9, nearest=_only)
    assert verdict.reason is not None and "drops the negation" in verdict.reason


# An opening surname is not read as a prefix and an inflected dictionary word (ri + chard-s)
def test_an_opening_surname_is_not_read_as_a_prefixed_inflected_word() -> None:
    claim = "Richards said the band would tour in May."
    verdict = check_claim(claim, [Evidence(1, "قال جاغر إن الفرقة ستقوم بجولة في مايو.", None)], 0.9)
    assert verdict.reason is not None and "Richards" in verdict.reason


# Across scripts, an Arabic word spelled like a foreign name that the dictionary renders (الأكاديمي
# "academic") is found through a rendering in the English source; a transliterated name is not
@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        ("كان المحتوى الأكاديمي لهذه الأكاديميات مثل محتوى الكلية التحضيرية.", None),
        ("كان المحتوى الأكاديمي لأكاديميات جوفانيليتي مثل محتوى الكلية التحضيرية.", "name 'جوفانيليتي'"),
    ],
)
def test_an_arabic_word_of_the_language_is_found_in_an_english_source_through_the_dictionary(
    claim: str, reason: str | None
) -> None:
    source = Evidence(1, "The academic content of these academies was usually that of a preparatory college.", None)
    verdict = check_claim(claim, [source], 0.9)
    _assert_reason(verdict, reason)


# An Arabic claim over an English source alone: the Arabic lexicon tells which words name something.
# A name it does not list must be found by its sound; a word of the language spelled with long
# vowels (حوالي "about", لإيجاد "to find") is no name; a loanword is found in a lowercase word.
PARK = Evidence(
    1,
    "State Route 41 (Fresno Yosemite Freeway) enters Fresno from Atascadero in the south, and then heads north"
    " towards Yosemite; about 40 companies were founded there to find new markets, using methotrexate.",
    None,
)


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        ("يدخل الطريق 41 مدينة فريسنو من أتاسكاديرو في الجنوب، ثم يتجه شمالا إلى يوسيمايت.", None),
        ("يدخل الطريق 41 مدينة فريسنو من أتاسكاديرو في الجنوب، ثم يتجه شمالا إلى أندرسون.", "name 'أندرسون'"),
        ("يدخل الطريق 41 مدينة فريسنو من أتاسكاديرو في الجنوب، ثم يتجه شمالا إلى نيكسوس.", "name 'نيكسوس'"),
        ("حوالي 40 من الشركات تأسست هناك لإيجاد أسواق جديدة باستخدام الميثوتركسات.", None),
        # inflected words: a verbal noun and a pronoun, a plural before a pronoun; and no name after
        # a title noun across a comma or a relative pronoun
        ("تأسست هناك 40 من الشركات لإيجاد أسواق جديدة لإيوائها وكان مدرّسوها في الولاية التي يدرّسون بها.", None),
        ("تأسست هناك 40 شركة، حسب الطريق 41.", None),
    ],
)
def test_an_arabic_claims_names_are_the_words_no_arabic_lexicon_lists(claim: str, reason: str | None) -> None:
    verdict = check_claim(claim, [PARK], 0.9)
    _assert_reason(verdict, reason)


@pytest.mark.parametrize(
    ("claim", "english", "reason"),
    [
        # an initialism of the source is its Arabic name and that name's adjective
        (
            "كان للحظر تأثير سلبي على الاقتصاد الأمريكي.",
            "The embargo had a negative influence on the US economy.",
            None,
        ),
        (
            "كان للحظر تأثير سلبي على الاقتصاد الأمريكي.",
            "The embargo had a negative influence on the EU economy.",
            "name 'الأمريكي'",
        ),
        # a month word that is a name of the source spelled by its sound (نيسان Nissan), not a date
        ("قدمت تويوتا ونيسان سيارات أكبر.", "Both Toyota and Nissan introduced larger cars.", None),
        ("قدمت تويوتا في نيسان سيارات أكبر.", "Toyota introduced larger cars in March.", "date 'نيسان'"),
        # دون in its sense of "under"
        ("لديها أطفال دون سن 18 سنة.", "Of the households, 30% had children under the age of 18.", None),
        ("لديها أطفال دون سن 18 سنة.", "Of the households, 30% had children at the age of 18.", "negation 'دون'"),
        (  # also where the sentence has another negation, further on
            "لديها أطفال دون سن 18 سنة.",
            "Of the households, 30% had children under the age of 18, 20% had no husband present.",
            None,
        ),
        # a name of one consonant tells nothing apart, as in English (ثيو Theo), but after a title
        ("سمي على اسم ثيو كيرني.", "It was named after Theo Kearney.", None),
        ("التقى الرئيس الصيني شي بالوفد.", "Chinese President Hu met the delegation.", "name 'شي'"),
        # a word that says a negation counts only over the words the claim negates
        ("لم تدمر العاصفة 200 منزل.", "The unprecedented storm destroyed 200 homes.", "negation 'لم'"),
        ("لم يعثر على الجثة.", "The body was found in an unmarked grave.", "negation 'لم'"),
        ("نفذت العملية دون دعم جوي.", "The operation was carried out under heavy air support.", "negation 'دون'"),
        # a month after a word a date follows, or over a source that gives a month, is the month
        ("أعلنت الشركة أرباحها في نيسان.", "Nissan announced its profits in March.", "date 'نيسان'"),
        ("انعقدت القمة في تموز.", "The summit met in June, at Tammuz Hall.", "date 'تموز'"),
        # a loanword is found only in a word the English dictionary does not have
        (
            "أعلنت بريطانيا انتهاء العملية العسكرية.",
            "France announced the end of the military operation.",
            "name 'بريطانيا'",
        ),
        # a country or organisation named in words of the language must be in the source: by those
        # words, its initialism or (across scripts) the dictionary's renderings
        ("أعلنت المملكة المتحدة انتهاء العملية.", "The UK announced the end of the operation.", None),
        (
            "أعلنت المملكة المتحدة انتهاء العملية.",
            "The US announced the end of the operation.",
            "name 'المملكة المتحدة'",
        ),
        ("أعلنت الولايات المتحدة انتهاء العملية.", "The United States announced the end of the operation.", None),
        ("أعلنت المملكة المتحدة انتهاء العملية.", "Britain announced the end of the operation.", None),
        ("أعلنت المحكمة الجنائية الدولية انتهاء التحقيق.", "The International Criminal Court ended the inquiry.", None),
        (
            "أعلنت الولايات المتحدة انتهاء العملية.",
            "The United Nations announced the end of the operation.",
            "name 'الولايات المتحدة'",
        ),
        (
            "وقال الاتحاد الأوروبي إنه يرحب بالاتفاق.",
            "The African Union said it welcomed the agreement.",
            "name 'الاتحاد الأوروبي'",
        ),
        # a fraction is a number: "a third" is not "a quarter", in either script
        ("استولت الشركة على ثلث السوق.", "The company took a third of the market.", None),
        ("استولت الشركة على ربع السوق.", "The company took a third of the market.", "number 'ربع'"),
        ("انخفضت الأسعار بمقدار الثلث.", "Prices fell by a third.", None),
        # a number word that counts nothing names nothing either
        ("ارتفعت الأسعار بنسبة 10 في المائة.", "Prices rose by 10% last year.", None),
        # an English word an affix negates is a negation the Arabic claim must keep
        ("كان هناك 12843 من الشراكات دون زواج.", "There were 12,843 unmarried partnerships.", None),
        ("كان هناك 12843 من شراكات الزواج.", "There were 12,843 unmarried partnerships.", "'unmarried'"),
        ("يحاول الفيزيائيون تطوير نماذج للتوحيد.", "Physicists try to develop models for unification.", None),
    ],
)
def test_an_arabic_claim_over_english_alone(claim: str, english: str, reason: str | None) -> None:
    verdict = check_claim(claim, [Evidence(1, english, None)], 0.9, nearest=_only)
    _assert_reason(verdict, reason)


# Places, peoples and languages Arabic calls by a name of its own (facts_names.txt, [exonyms]): found
# by that name across scripts both ways, a name of two words only where the source has both.
LEVANT = Evidence(1, "توقفت جيوشه في مصر لكنه وصل إلى الشام وبحر قزوين، وكان المتوسط عمر الجنود 20 سنة.", None)
CASPIAN = Evidence(1, "His armies reached the Levant and the Caspian Sea.", None)


@pytest.mark.parametrize(
    ("claim", "source", "reason"),
    [
        ("His armies reached the Levant.", LEVANT, None),
        ("His armies reached Persia.", LEVANT, "name 'Persia'"),
        ("His armies reached the Mediterranean.", LEVANT, "name 'Mediterranean'"),  # المتوسط alone: "average"
        ("His armies reached the Caspian.", LEVANT, None),
        ("وصلت جيوشه إلى الشام وبحر قزوين.", CASPIAN, None),
        ("وصلت جيوشه إلى الشام وبحر البلطيق.", CASPIAN, "name 'البلطيق'"),
        # a name that is also a word of the language is found as written, not by its stem or after
        # a preposition that makes it the word (صيد "fishing", بحلب "by milking", المجرة "the galaxy")
        ("The people of Sidon depend on fishing.", Evidence(1, "يعتمد سكان المدينة على صيد الأسماك.", None), "Sidon"),
        ("Women in Aleppo milk the cows.", Evidence(1, "تقوم النساء بحلب الأبقار.", None), "name 'Aleppo'"),
        ("They found a new star in Hungary.", Evidence(1, "وجدوا نجما جديدا في المجرة.", None), "name 'Hungary'"),
        ("The fighting spread to Aleppo.", Evidence(1, "امتد القتال إلى حلب.", None), None),
        ("The Hungarians won.", Evidence(1, "فاز المجريون.", None), None),
        (
            "قال الوزير خليل حداد إن المحادثات ستستأنف في الخليل.",
            Evidence(1, "Sami Haddad said talks would resume in Hebron.", None),
            "خليل",
        ),
        # the Mediterranean by any of its names, المتوسط ("average") only in one of them
        (
            "The ship sailed across the Mediterranean.",
            Evidence(1, "أبحرت السفينة عبر البحر الأبيض المتوسط.", None),
            None,
        ),
        (
            "Tensions rose in the Mediterranean in 2020.",
            Evidence(1, "تصاعد التوتر في حوض المتوسط عام 2020.", None),
            None,
        ),
    ],
)
def test_an_exonym_is_found_by_the_name_the_other_language_gives_it(
    claim: str, source: Evidence, reason: str | None
) -> None:
    verdict = check_claim(claim, [source], 0.9)
    _assert_reason(verdict, reason)


@pytest.mark.parametrize(
    "claim",
    [
        "قال الرئيس  سعيد إن الانتخابات ستجرى في ديسمبر.",  # two spaces
        "قال الرئيس «سعيد» إن الانتخابات ستجرى في ديسمبر.",  # quotes
        "قال الرئيس\u200f سعيد إن الانتخابات ستجرى في ديسمبر.",  # a right-to-left mark
    ],
)
def test_a_name_after_a_title_noun_is_checked_across_spaces_quotes_and_marks(claim: str) -> None:
    """Only clause punctuation ends a title's name (شركة، حسب); spacing, quotes and marks do not."""
    verdict = check_claim(claim, [Evidence(1, "قال الرئيس إن الانتخابات ستجرى في ديسمبر.", None)], 0.9)
    assert verdict.reason is not None and "name 'سعيد'" in verdict.reason


@pytest.mark.parametrize(
    ("claim", "source", "supported"),
    [
        # a noun with a pronoun suffix restates the source's noun: ت for ة, a plural's lost ن
        (
            "أنهى الطلاب مرحلتهم الثانوية عام 2010 في القاهرة.",
            "أنهى الطلاب المرحلة الثانوية عام 2010 في القاهرة.",
            True,
        ),
        ("قال مدرسوهم إن 40 طالبا تغيبوا يوم الاثنين.", "قال المدرسون إن 40 طالبا تغيبوا يوم الاثنين.", True),
        # … but another noun with a pronoun is still another word
        ("قال قائد كتيبتهم إن 12 جنديا قتلوا.", "قال قائد الفرقة إن 12 جنديا قتلوا.", False),
    ],
)
def test_a_noun_with_a_pronoun_suffix_restates_the_sources_noun(claim: str, source: str, supported: bool) -> None:
    assert check_claim(claim, [Evidence(1, source, None)], 0.9).supported is supported


@pytest.mark.parametrize(
    ("claim", "source", "reason"),
    [
        ("", "قالت الوزيرة إن المحادثات ستستأنف.", "the claim states nothing"),
        (" . ", "قالت الوزيرة إن المحادثات ستستأنف.", "the claim states nothing"),
        # a woman's title is a title (الوزيرة, السفيرة)
        ("قالت الوزيرة سلمى إن المحادثات ستستأنف.", "قالت الوزيرة إن المحادثات ستستأنف.", "name 'سلمى'"),
        # a place Arabic calls by a name of its own is a name, whatever the lexicon says of the word
        ("وقعت المعركة في المجر.", "The battle took place in Poland.", "name 'المجر'"),
        ("وقعت المعركة في المجر.", "The battle took place in Hungary.", None),
    ],
)
def test_what_a_claim_must_name(claim: str, source: str, reason: str | None) -> None:
    verdict = check_claim(claim, [Evidence(1, source, None)], 0.9)
    _assert_reason(verdict, reason)
