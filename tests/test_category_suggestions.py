"""Which categories fit a description: the domain's suggestion (whistle.cases.suggest), used
by the street pages' report form as the reporter types."""

from __future__ import annotations

from whistle.cases import actions
from whistle.cases.suggest import DESCRIPTION_SCAN, clear_best, suggest_categories
from whistle.policies.models import Category, CategoryKind, MajorClass

ORDER = MajorClass(kind=CategoryKind.EVENT, code="05", name="街面秩序")
FACILITIES = MajorClass(kind=CategoryKind.COMPONENT, code="01", name="公用设施")

VENDING = Category(major=ORDER, code="01", name="无照经营游商", keywords="游商,小贩,摆摊,占道经营")
PARKING = Category(major=ORDER, code="02", name="违章停车", keywords="乱停车，占道")
COVER = Category(major=FACILITIES, code="03", name="井盖", keywords="井盖,破损,丢失")
PAVING = Category(major=FACILITIES, code="04", name="道路破损", keywords="破损,坑洼")
CATEGORIES = [VENDING, PARKING, COVER, PAVING]


def names(text: str, **options) -> list[str]:
    return [s.category.name for s in suggest_categories(text, CATEGORIES, **options)]


def test_the_category_whose_words_match_comes_first():
    [best] = suggest_categories("巷口有小贩摆摊卖水果", CATEGORIES)
    assert best.category is VENDING
    assert best.matched == ("小贩", "摆摊")
    assert best.score == 4


def test_longer_words_weigh_more_and_the_name_counts_double():
    # "井盖" is the name (2 × 2) and a keyword (2); "破损" is a keyword of both (2).
    suggestions = suggest_categories("井盖破损了", CATEGORIES)
    assert [(s.category.name, s.score) for s in suggestions] == [("井盖", 8), ("道路破损", 2)]
    assert suggestions[0].matched == ("井盖", "破损")


def test_full_width_commas_letters_and_case_do_not_matter():
    assert names("路边乱停车") == ["违章停车"]
    latin = Category(major=ORDER, code="09", name="LED屏", keywords="ＬＥＤ,广告屏")
    assert [s.category for s in suggest_categories("led 太亮", [latin])] == [latin]


def test_nothing_fits_an_empty_or_unrelated_text():
    assert names("") == []
    assert names("   ") == []
    assert names("天气很好") == []


def test_at_most_three_by_default_ties_in_the_order_of_the_codes():
    text = "小贩 占道 井盖 破损 坑洼"
    assert len(suggest_categories(text, CATEGORIES)) == 3
    assert names(text, limit=10) == ["井盖", "道路破损", "无照经营游商", "违章停车"]


def test_only_the_start_of_a_very_long_description_is_read():
    assert names("说" * DESCRIPTION_SCAN + "井盖") == []
    assert names("说" * (DESCRIPTION_SCAN - 2) + "井盖") == ["井盖"]


def test_the_clear_best_is_the_first_only_when_it_fits_better_than_every_other():
    best = clear_best("道路破损，有坑洼", CATEGORIES)
    assert best is not None and best.category is PAVING
    # "破损" is a keyword of the cover and of the road alike: a tie is no answer.
    assert [s.score for s in suggest_categories("破损", CATEGORIES)] == [2, 2]
    assert clear_best("破损", CATEGORIES) is None
    assert clear_best("天气很好", CATEGORIES) is None
    alone = clear_best("破损", [COVER])
    assert alone is not None and alone.category is COVER


def test_the_actions_package_offers_the_same_function():
    assert actions.suggest_categories is suggest_categories


def test_an_english_description_is_read_against_the_english_names():
    cover = Category(major=FACILITIES, code="03", name="井盖", name_en="Manhole cover")
    lights = Category(major=FACILITIES, code="05", name="路灯", name_en="Street lights")
    vending = Category(major=ORDER, code="01", name="无照经营游商", name_en="Street vending")
    untranslated = Category(major=ORDER, code="02", name="违章停车")
    categories = [cover, lights, vending, untranslated]
    # Every word of "Manhole cover" is there: the whole name counts double (7 + 5) × 2.
    [best, *_rest] = suggest_categories("The MANHOLE cover on the lane is missing", categories)
    assert (best.category, best.matched, best.score) == (cover, ("manhole", "cover"), 24)
    # "lights" is read as "light"; "street" alone only half-fits the two "Street …" names.
    found = suggest_categories("Two street lights are out", categories, limit=10)
    assert [(s.category, s.matched, s.score) for s in found] == [
        (lights, ("street", "light"), 22),
        (vending, ("street",), 6),
    ]
    # Short and common words tell nothing; a word inside another word is not the word.
    assert suggest_categories("the other coverage of it", categories) == []
    # Chinese descriptions read as before, the English names aside.
    assert [s.category for s in suggest_categories("井盖丢了", categories)] == [cover]


def test_an_english_description_is_read_against_the_english_keywords():
    litter = Category(
        major=ORDER,
        code="03",
        name="乱扔垃圾",
        name_en="Littering",
        keywords_en="fly-tipping, rubbish bags",
    )
    parking = Category(major=ORDER, code="02", name="违章停车", name_en="Illegal parking")
    categories = [litter, parking]
    # Every word of a keyword must be there, each as matched ("bags" as "bag").
    found = suggest_categories("Someone left rubbish bags by the gate", categories, limit=10)
    assert [(s.category, s.matched, s.score) for s in found] == [(litter, ("rubbish bags",), 10)]
    assert (
        suggest_categories("Fly-tipping again behind the school", categories)[0].category == litter
    )
    # One word of a two-word keyword is not enough.
    assert suggest_categories("Rubbish everywhere", categories) == []
