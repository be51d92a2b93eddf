"""Catalog search: can a buyer find, by a few words typed any way, the items it may see at the
price it pays, and nothing else?"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import delete, select, text

from app.extensions import db
from app.models import Partnership
from app.models.catalog import FTS_TABLE, CatalogAudience, CatalogItem, CustomerPrice
from app.models.network import ACTIVE
from app.services.catalogs import items, search
from app.tenancy import acting_as
from tests.conftest import make_company, make_user

_codes = iter(range(1, 10_000))


def connect(supplier, customer) -> None:
    db.session.add(Partnership(supplier_id=supplier.id, customer_id=customer.id,
                               requested_by_id=supplier.id, status=ACTIVE))
    db.session.commit()


def add(supplier, name, *, price="100", visibility="network", published=True, chosen=(),
        **fields) -> CatalogItem:
    item = CatalogItem(company_id=supplier.id, seller_item_id=fields.pop("code", None)
                       or f"C-{next(_codes)}", name=name, price=Decimal(price),
                       visibility=visibility, published=published, **fields)
    db.session.add(item)
    db.session.flush()
    for customer in chosen:
        db.session.add(CatalogAudience(company_id=supplier.id, item_id=item.id,
                                       customer_company_id=customer.id))
    db.session.commit()
    return item


def names(buyer, query="", **filters) -> list[str]:
    return [h.name for h in search.search_items(buyer.id, query, **filters).hits]


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


@pytest.fixture
def supplier():
    return make_company("Ferretería Central")


@pytest.fixture
def buyer(supplier):
    company = make_company("Constructora")
    connect(supplier, company)
    return company


@pytest.mark.parametrize(("stored", "typed"), [
    ("Plumas de ñandú", "nandu"), ("Plumas de nandu", "ñandú"),
    ("CAFÉ molido", "cafe"), ("cafe molido", "CAFÉ"), ("Cerámica blanca", "CERAMICA"),
])
def test_are_accents_and_case_ignored_both_ways(supplier, buyer, stored, typed):
    add(supplier, stored)
    add(supplier, "Otra cosa")
    assert names(buyer, typed) == [stored]


def test_does_a_beginning_of_a_word_find_it(supplier, buyer):
    add(supplier, "Tornillo hexagonal 3/8")
    add(supplier, "Tuerca")
    assert names(buyer, "torn") == ["Tornillo hexagonal 3/8"]
    assert names(buyer, "torn hex") == ["Tornillo hexagonal 3/8"]
    assert names(buyer, "torn tuer") == []  # every word must match
    assert names(buyer, "to") == []  # two letters are a whole word, not a beginning


def test_are_little_words_left_out_when_there_are_others(supplier, buyer):
    add(supplier, "Tornillo de acero")
    add(supplier, "Tornillo inoxidable")
    assert sorted(names(buyer, "tornillo de")) == ["Tornillo de acero", "Tornillo inoxidable"]
    assert names(buyer, "de") == ["Tornillo de acero"] or is_postgres()


def test_do_words_postgresql_leaves_out_find_what_the_buyer_may_see_by_name(supplier, buyer):
    if not is_postgres():
        pytest.skip("the 'spanish' configuration's stop words are PostgreSQL's")
    stranger = make_company("Otro proveedor")
    add(supplier, "Tornillo de acero")
    add(supplier, "Alicate", visibility="connected")
    add(supplier, "Borrador", published=False)
    add(stranger, "Arandela", visibility="connected")
    # "que" and "sobre" are stop words of PostgreSQL's, not the search's: nothing is left to
    # match, so every item the buyer may see is found, by name (as without words).
    assert names(buyer, "que") == ["Alicate", "Tornillo de acero"]
    assert names(buyer, "que sobre", supplier_id=stranger.id) == []
    assert names(buyer, "que", supplier_id=supplier.id) == ["Alicate", "Tornillo de acero"]


def test_does_a_plural_find_the_singular_on_postgresql(supplier, buyer):
    if not is_postgres():
        pytest.skip("Spanish stemming is PostgreSQL's ('tornillos' is a prefix search on SQLite)")
    add(supplier, "Tornillo de acero")
    add(supplier, "Tuerca de acero")
    assert names(buyer, "tornillos") == ["Tornillo de acero"]
    assert names(buyer, "aceros") == ["Tornillo de acero", "Tuerca de acero"]


def test_are_code_gtin_description_and_categories_searched(supplier, buyer):
    add(supplier, "Martillo", code="MART-16", standard_item_id="7702004003508",
        description="Mango de fibra de vidrio", categories="Ferretería, Herramientas")
    add(supplier, "Alicate")
    assert names(buyer, "MART-16") == ["Martillo"]
    assert names(buyer, "7702004003508") == ["Martillo"]
    assert names(buyer, "fibra vidrio") == ["Martillo"]
    assert names(buyer, "herramientas") == ["Martillo"]


def test_does_a_name_match_rank_above_a_description_match(supplier, buyer):
    add(supplier, "Cinta aislante", description="Para cables y tubos")
    add(supplier, "Tubo PVC 1/2", description="Presión")
    assert names(buyer, "tubo") == ["Tubo PVC 1/2", "Cinta aislante"]


def test_without_words_items_come_by_name(supplier, buyer):
    for name in ("Zapapico", "Alicate", "Martillo"):
        add(supplier, name)
    assert names(buyer) == ["Alicate", "Martillo", "Zapapico"]
    assert names(buyer, "   ") == ["Alicate", "Martillo", "Zapapico"]


def test_who_finds_which_item(supplier, buyer):
    stranger, chosen = make_company("Extraño"), make_company("Elegido")
    connect(supplier, chosen)
    add(supplier, "Broca red", visibility="network")
    add(supplier, "Broca clientes", visibility="connected")
    add(supplier, "Broca elegida", visibility="chosen", chosen=[chosen])
    add(supplier, "Broca oculta", visibility="network", published=False)
    add(supplier, "Broca oculta clientes", visibility="connected", published=False)
    assert names(stranger, "broca") == ["Broca red"]
    assert names(buyer, "broca") == ["Broca clientes", "Broca red"]
    assert names(chosen, "broca") == ["Broca clientes", "Broca elegida", "Broca red"]
    # Who is bound (another company, or none) changes nothing: the buyer is named.
    with acting_as(supplier.id):
        assert names(stranger, "broca") == ["Broca red"]


def test_does_a_company_that_also_sells_find_its_own_published_items(supplier, buyer):
    add(supplier, "Llave inglesa")
    add(supplier, "Llave secreta", published=False)
    page = search.search_items(supplier.id, "llave")
    assert [(h.name, h.own) for h in page.hits] == [("Llave inglesa", True)]
    assert [h.own for h in search.search_items(buyer.id, "llave").hits] == [False]


def test_does_a_buyer_see_its_own_price_and_no_one_elses(supplier, buyer):
    other = make_company("Otra constructora")
    connect(supplier, other)
    item = add(supplier, "Cemento gris 50 kg", price="32000")
    today = dt.date.today()
    db.session.add_all([
        CustomerPrice(company_id=supplier.id, item_id=item.id, customer_company_id=buyer.id,
                      price=Decimal("29500"), valid_from=today - dt.timedelta(days=3)),
        # Expired, and not yet valid: neither counts.
        CustomerPrice(company_id=supplier.id, item_id=item.id, customer_company_id=buyer.id,
                      price=Decimal("1"), valid_to=today - dt.timedelta(days=1)),
        CustomerPrice(company_id=supplier.id, item_id=item.id, customer_company_id=buyer.id,
                      price=Decimal("2"), valid_from=today + dt.timedelta(days=1)),
    ])
    db.session.commit()
    mine = search.search_items(buyer.id, "cemento").hits[0]
    assert (mine.price, mine.customer_price, mine.list_price) == (
        Decimal("29500"), True, Decimal("32000"))
    theirs = search.search_items(other.id, "cemento").hits[0]
    assert (theirs.price, theirs.customer_price) == (Decimal("32000"), False)


def test_do_filters_narrow_the_results(supplier, buyer):
    second = make_company("Papelería")
    connect(second, buyer)
    cheap = add(supplier, "Lápiz HB", price="900", categories="Oficina, Escritura")
    add(supplier, "Lápiz de carpintero", price="2500", categories="Ferretería")
    add(second, "Lápiz rojo", price="1200", categories="oficina")
    db.session.add(CustomerPrice(company_id=supplier.id, item_id=cheap.id,
                                 customer_company_id=buyer.id, price=Decimal("3000")))
    db.session.commit()
    assert names(buyer, "lapiz", supplier_id=second.id) == ["Lápiz rojo"]
    assert sorted(names(buyer, "lapiz", category="Oficina")) == ["Lápiz HB", "Lápiz rojo"]
    assert names(buyer, "", category="ferretería") == ["Lápiz de carpintero"]
    assert names(buyer, "", category="Ofi") == []  # a whole category, not part of one
    # On the price the buyer pays: 3000 for "Lápiz HB", not its list price of 900.
    assert names(buyer, "lapiz", price_max=Decimal("2000")) == ["Lápiz rojo"]
    assert names(buyer, "lapiz", price_min=Decimal("2600")) == ["Lápiz HB"]
    assert names(buyer, "", price_min=Decimal("1000"), price_max=Decimal("2500")) == [
        "Lápiz de carpintero", "Lápiz rojo"]


@pytest.mark.parametrize("hostile", [
    '"', '""', "*", "OR", "AND", "NOT", "NEAR(", "NEAR(a b)", "-", "-tornillo", ":", "a:b",
    "name:tornillo", "(", ")", "^", "'; drop table catalog_items; --", "tornillo OR 1=1",
    "x" * 1000, "tornillo " * 200, "🔩", "🔩 tornillo", "\x00", "%", "_", "\\", "&|!<->",
    "tornillo:*", "{name}: x", "+", "&", "!", "'", "''",
])
def test_does_a_hostile_query_answer_normally(supplier, buyer, hostile):
    add(supplier, "Tornillo")
    page = search.search_items(buyer.id, hostile)
    assert isinstance(page.hits, list)
    if hostile in ("-tornillo", "🔩 tornillo", "tornillo:*", "tornillo " * 200):
        assert [h.name for h in page.hits] == ["Tornillo"]
    # The table is still there.
    assert names(buyer, "tornillo") == ["Tornillo"]


def test_do_pages_follow_each_other(supplier, buyer):
    for n in range(7):
        add(supplier, f"Clavo {n}")
    first = search.search_items(buyer.id, "clavo", limit=3)
    second = search.search_items(buyer.id, "clavo", limit=3, offset=3)
    last = search.search_items(buyer.id, "clavo", limit=3, offset=6)
    assert [h.name for h in first.hits + second.hits + last.hits] == [
        f"Clavo {n}" for n in range(7)]
    assert (first.more, second.more, last.more) == (True, True, False)


def test_are_edits_and_deletions_found_at_once(supplier, buyer):
    item = add(supplier, "Pintura azul", description="Vinilo")
    item.name, item.description = "Pintura roja", "Esmalte"
    db.session.commit()
    assert names(buyer, "azul") == [] and names(buyer, "vinilo") == []
    assert names(buyer, "roja esmalte") == ["Pintura roja"]
    item.price = Decimal("5")  # a change the index does not hold
    db.session.commit()
    assert names(buyer, "roja") == ["Pintura roja"]
    db.session.delete(item)
    db.session.commit()
    assert names(buyer, "pintura") == []
    add(supplier, "Pintura verde")
    db.session.execute(delete(CatalogItem).where(CatalogItem.company_id == supplier.id))
    db.session.commit()
    assert names(buyer, "pintura") == []


def test_does_a_hit_carry_what_a_buyer_needs(supplier, buyer):
    add(supplier, "Guantes de nitrilo", code="GN-1", standard_item_id="7702004003508",
        description="Caja x 100 " + "muy resistentes " * 30, unit_code="BX", currency="COP",
        tax_percent=Decimal("19"), min_quantity=Decimal("2"), pack_size=Decimal("10"),
        availability="on_request", lead_time_days=5, image_type="image/png")
    hit = search.search_items(buyer.id, "guantes").hits[0]
    assert (hit.supplier_id, hit.supplier_name, hit.code, hit.gtin, hit.unit_code) == (
        supplier.id, "Ferretería Central", "GN-1", "7702004003508", "BX")
    assert (hit.tax_percent, hit.min_quantity, hit.pack_size) == (19, 2, 10)
    assert (hit.availability, hit.lead_time_days, hit.has_picture) == ("on_request", 5, True)
    assert hit.snippet.startswith("Caja x 100") and len(hit.snippet) <= search.SNIPPET
    assert hit.snippet.endswith("…")


def test_does_compare_find_the_same_item_from_each_supplier_cheapest_first(supplier, buyer):
    second, third, hidden = (make_company(n) for n in ("Depósito", "Almacén", "Oculto"))
    connect(second, buyer)
    connect(third, buyer)
    gtin = "7702004003508"
    mine = add(supplier, "Cemento gris", price="32000", standard_item_id=gtin)
    add(second, "Cemento Argos gris 50 kg", price="30500", standard_item_id=gtin)
    add(third, "Cemento", price="31000", standard_item_id=gtin, visibility="chosen")
    add(hidden, "Cemento", price="10", standard_item_id=gtin, visibility="connected")
    found = search.compare(buyer.id, mine.id)
    assert [(h.supplier_id, h.price) for h in found] == [
        (second.id, Decimal("30500")), (supplier.id, Decimal("32000"))]
    # Without a GTIN: the same name (accents and case aside) and the same unit.
    a = add(supplier, "Arena de río", price="50", unit_code="KGM")
    add(second, "ARENA DE RIO", price="45", unit_code="KGM")
    add(third, "Arena de río", price="40", unit_code="TNE")
    add(third, "Arena de río lavada", price="30", unit_code="KGM")
    assert [(h.name, h.price) for h in search.compare(buyer.id, a.id)] == [
        ("ARENA DE RIO", Decimal("45")), ("Arena de río", Decimal("50"))]
    # An item the buyer may not see compares with nothing.
    unseen = add(hidden, "Secreto", visibility="connected")
    assert search.compare(buyer.id, unseen.id) == []


def test_query_words_keeps_only_plain_words():
    assert search.query_words('"Tornillo" OR (ñandú*) NEAR: -x 🔩') == [
        "tornillo", "or", "nandu", "near"]
    assert len(search.query_words("a " * 100)) == 1
    assert len(search.query_words(" ".join(f"w{n}" for n in range(50)))) == search.MAX_WORDS


# ------------------------------------------------------------ who may see it, in the index


def index_is_sound() -> bool:
    """SQLite: the FTS5 index holds exactly what the items say (no stale access tokens)."""
    if is_postgres():
        return True
    db.session.execute(text(
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)"))
    return True


def test_is_an_item_found_once_published_and_lost_once_withdrawn(supplier, buyer):
    seller = make_user(supplier, role="sales")
    item = add(supplier, "Taladro percutor", published=False)
    assert names(buyer, "taladro") == []
    assert names(supplier, "taladro") == []  # not even by its supplier, as a buyer
    with acting_as(supplier.id, seller.id):
        items.set_published(supplier.id, [item.id], published=True, actor=seller)
    db.session.commit()
    assert names(buyer, "taladro") == ["Taladro percutor"]
    assert names(supplier, "taladro") == ["Taladro percutor"]
    with acting_as(supplier.id, seller.id):
        items.set_published(supplier.id, [item.id], published=False, actor=seller)
    db.session.commit()
    assert names(buyer, "taladro") == [] and names(supplier, "taladro") == []
    assert index_is_sound()


def test_does_a_change_of_visibility_change_who_finds_the_item(supplier, buyer):
    stranger = make_company("Extraño")
    item = add(supplier, "Sierra circular", visibility="connected")
    assert (names(buyer, "sierra"), names(stranger, "sierra")) == (["Sierra circular"], [])
    item.visibility = "network"
    db.session.commit()
    assert (names(buyer, "sierra"), names(stranger, "sierra")) == (
        ["Sierra circular"], ["Sierra circular"])
    item.visibility = "chosen"  # with no one chosen yet
    db.session.commit()
    assert (names(buyer, "sierra"), names(stranger, "sierra")) == ([], [])
    assert names(supplier, "sierra") == ["Sierra circular"]
    assert index_is_sound()


def test_do_chosen_customers_added_and_removed_find_the_item_or_not(supplier, buyer):
    second = make_company("Segunda constructora")
    connect(supplier, second)
    item = add(supplier, "Nivel láser", visibility="chosen", chosen=[buyer])
    assert (names(buyer, "nivel"), names(second, "nivel")) == (["Nivel láser"], [])
    seller = make_user(supplier, role="sales")
    with acting_as(supplier.id, seller.id):
        values = items.check_item({"seller_item_id": item.seller_item_id, "name": item.name,
                                   "price": "100", "visibility": "chosen",
                                   "customers": [second.id]}, company_id=supplier.id)
        items.save_item(supplier.id, values, actor=seller, item_id=item.id)
    db.session.commit()
    assert (names(buyer, "nivel"), names(second, "nivel")) == ([], ["Nivel láser"])
    db.session.execute(delete(CatalogAudience).where(CatalogAudience.item_id == item.id))
    db.session.commit()
    assert (names(buyer, "nivel"), names(second, "nivel")) == ([], [])
    # Chosen while withdrawn: found once published again, by the chosen one only.
    item.published = False
    db.session.add(CatalogAudience(company_id=supplier.id, item_id=item.id,
                                   customer_company_id=buyer.id))
    db.session.commit()
    assert names(buyer, "nivel") == []
    item.published = True
    db.session.commit()
    assert (names(buyer, "nivel"), names(second, "nivel")) == (["Nivel láser"], [])
    assert index_is_sound()
    db.session.delete(item)  # its audience goes with it
    db.session.commit()
    assert names(buyer, "nivel") == [] and index_is_sound()


def test_does_a_partnership_that_ends_or_starts_change_what_a_buyer_finds(supplier, buyer):
    add(supplier, "Pulidora angular", visibility="connected")
    add(supplier, "Pulidora de banco", visibility="network")
    with acting_as(buyer.id):
        partnership = db.session.scalars(select(Partnership).where(
            Partnership.supplier_id == supplier.id, Partnership.customer_id == buyer.id)).one()
    partnership.status = "declined"
    db.session.commit()
    assert names(buyer, "pulidora") == ["Pulidora de banco"]
    partnership.status = ACTIVE
    db.session.commit()
    assert names(buyer, "pulidora") == ["Pulidora angular", "Pulidora de banco"]
    # Asked for one supplier: only that supplier's items, still only those shown to the buyer.
    other = make_company("Otro proveedor")
    connect(other, buyer)
    add(other, "Pulidora roja", visibility="connected")
    add(other, "Pulidora oculta", visibility="chosen", chosen=[supplier])
    assert names(buyer, "pulidora", supplier_id=other.id) == ["Pulidora roja"]
    assert names(buyer, "pulidora", supplier_id=make_company("Nadie").id) == []


def test_is_an_item_missing_from_the_rule_not_shown_even_if_the_index_says_so(supplier, buyer):
    """The index only narrows: the access rule decides on the rows returned."""
    stranger = make_company("Extraño")
    item = add(supplier, "Esmeril", visibility="connected")
    # Wrong tokens, as a broken trigger would leave them: shown to the whole network.
    tokens = "array_to_tsvector(ARRAY['zvnet'])" if is_postgres() else "'zvnet'"
    db.session.execute(text(f"UPDATE catalog_items SET search_access = {tokens} WHERE id = :id"),
                       {"id": item.id})
    if not is_postgres():
        db.session.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"))
    db.session.commit()
    assert names(stranger, "esmeril") == []
