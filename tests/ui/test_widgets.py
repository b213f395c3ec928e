"""Shared widgets: the keyset-paging table model, the debounced search box, the form helper."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QTableView
from sqlalchemy import Integer, String, create_engine, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from shell.errors import ValidationError
from shell.text import matches_name, pinyin_initials
from shell.ui.widgets import Column, Form, LazyTableModel, SearchBox
from shell.ui.widgets.lazy_table import RIGHT


class _Base(DeclarativeBase):
    pass


class Person(_Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    grid: Mapped[int] = mapped_column(Integer)


ROWS = 5000


@pytest.fixture
def people(tmp_path):
    """5,000 people in a file database, with a log of every SELECT the model sends."""
    engine = create_engine(f"sqlite:///{tmp_path / 'people.sqlite'}")
    _Base.metadata.create_all(engine)
    with engine.begin() as conn:
        # Ids inserted out of order, so "ORDER BY id" is really doing the work.
        ids = list(range(1, ROWS + 1))
        ids = ids[1::2] + ids[::2]
        conn.execute(Person.__table__.insert(), [{"id": i, "name": f"居民{i:04d}", "grid": i % 7} for i in ids])
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, stmt, params, ctx, many: statements.append(stmt))
    yield sessionmaker(bind=engine), statements
    engine.dispose()


COLUMNS = [Column("编号", lambda p: p.id, RIGHT), Column("姓名", lambda p: p.name), Column("网格", lambda p: f"第{p.grid}网格")]


def _view(qtbot, model):
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(500, 400)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_lazy_table_loads_only_first_pages_and_counts_separately(qtbot, people):
    factory, statements = people
    model = LazyTableModel(factory, COLUMNS, page_size=100)
    model.set_query(select(Person), Person.id)
    view = _view(qtbot, model)
    qtbot.waitUntil(lambda: not model.counting)  # counted on the pool: the first page did not wait for it
    assert model.total == ROWS
    assert 100 <= model.rowCount() <= 300, "a view must not load the whole table"
    assert model.canFetchMore()
    # Never a full-table select: every row query is limited, the total comes from COUNT.
    selects = [s for s in statements if "FROM people" in s]
    assert any("count(" in s.lower() for s in selects)
    assert all("LIMIT" in s for s in selects if "count(" not in s.lower())
    assert model.headerData(1, Qt.Orientation.Horizontal) == "姓名"
    assert model.data(model.index(0, 0)) == "1"
    assert model.data(model.index(0, 2)) == "第1网格"
    assert model.data(model.index(0, 0), Qt.ItemDataRole.TextAlignmentRole) == int(RIGHT)
    assert view.isVisible()


def test_lazy_table_scrolling_fetches_more(qtbot, people):
    factory, statements = people
    model = LazyTableModel(factory, COLUMNS, page_size=100)
    model.set_query(select(Person), Person.id)
    view = _view(qtbot, model)
    before = model.rowCount()
    for _ in range(5):
        view.scrollToBottom()
        qtbot.wait(20)
    assert model.rowCount() > before
    assert model.rowCount() < ROWS
    # Each later page starts after the last key seen (keyset), so deep pages cost the same.
    pages = [s for s in statements if "FROM people" in s and "count(" not in s.lower()]
    assert len(pages) == model.pages_fetched >= 2
    assert "people.id >" not in pages[0]
    assert all("people.id >" in s for s in pages[1:])


def test_lazy_table_keyset_visits_every_row_once_in_order(qtbot, people):
    factory, _ = people
    model = LazyTableModel(factory, COLUMNS, page_size=333)  # pages that do not divide 5,000
    model.set_query(select(Person), Person.id)
    model.fetch_all()
    ids = [model.row_object(r).id for r in range(model.rowCount())]
    assert ids == list(range(1, ROWS + 1))
    assert model.pages_fetched == ROWS // 333 + 1
    assert not model.canFetchMore()

    model.set_query(select(Person), Person.id, descending=True)
    model.fetch_all()
    assert [model.row_object(r).id for r in range(model.rowCount())] == list(range(ROWS, 0, -1))


def test_lazy_table_filter_resets(qtbot, people):
    factory, _ = people
    model = LazyTableModel(factory, COLUMNS, page_size=100)
    counts = []
    model.count_changed.connect(counts.append)
    model.set_query(select(Person), Person.id)
    _view(qtbot, model)
    with qtbot.waitSignal(model.count_changed):   # more than a page: counted on the pool
        model.set_query(select(Person).where(Person.grid == 3), Person.id)
    assert counts[-1] == len([i for i in range(1, ROWS + 1) if i % 7 == 3])
    assert all(model.row_object(r).grid == 3 for r in range(model.rowCount()))
    model.set_query(select(Person).where(Person.name == "没有这个人"), Person.id)
    assert model.rowCount() == 0 and counts[-1] == 0 and not model.canFetchMore()


def test_lazy_table_drops_a_count_for_a_filter_no_longer_shown(qtbot, people):
    factory, _ = people
    model = LazyTableModel(factory, COLUMNS, page_size=100)
    counts = []
    model.count_changed.connect(counts.append)
    model.set_query(select(Person), Person.id)        # the whole table: its count goes to the pool …
    assert model.counting
    model.set_query(select(Person).where(Person.id <= 5), Person.id)   # … and is overtaken
    assert not model.counting and model.total == 5 and counts == [5]   # a short first page is its count
    qtbot.wait(300)
    assert counts == [5] and model.total == 5


def test_lazy_table_multi_column_rows(qtbot, people):
    factory, _ = people
    model = LazyTableModel(factory, [Column("姓名", lambda r: r[0]), Column("网格", lambda r: r[1])], page_size=10)
    model.set_query(select(Person.name, Person.grid).where(Person.id <= 25), Person.id)
    model.fetch_all()
    assert model.rowCount() == 25
    assert model.data(model.index(24, 0)) == "居民0025"


def test_lazy_table_reports_a_broken_query(qtbot, people):
    factory, _ = people
    model = LazyTableModel(factory, COLUMNS)
    with qtbot.waitSignal(model.failed):
        model.set_query(select(Person).where(Person.name == Person.__table__.c.name.op("no_such_op")("x")), Person.id)
    assert model.rowCount() == 0 and not model.canFetchMore()


def test_pinyin_initials_and_matching():
    assert pinyin_initials("张三") == "zs"
    assert pinyin_initials("李A组") == "laz"
    assert pinyin_initials("") == ""
    assert matches_name("张三丰", "zsf")
    assert matches_name("张三丰", "ZS")
    assert matches_name("张三丰", "三丰")
    assert not matches_name("张三丰", "ls")
    assert matches_name("张三丰", "zhangsan") and matches_name("张三丰", "sanfeng")


def test_search_box_debounces(qtbot):
    box = SearchBox()
    qtbot.addWidget(box)
    assert box.placeholderText() == "姓名、拼音或身份证号"
    assert "全拼" in box.toolTip() and "首字母" in box.toolTip()
    seen = []
    box.search.connect(seen.append)
    with qtbot.waitSignal(box.search, timeout=2000) as blocker:
        for ch in "zhang":
            qtbot.keyClick(box, ch)
    assert blocker.args == ["zhang"]
    assert seen == ["zhang"], "typing five letters must give one search, not five"
    # Enter searches at once; the same text twice does not query again.
    box.setText("110101")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert seen[-1] == "110101"
    qtbot.wait(400)
    assert seen == ["zhang", "110101"]


def test_form_marks_required_and_shows_errors_inline(qtbot):
    form = Form()
    qtbot.addWidget(form)
    name = form.add("name", "名称", QLineEdit(), required=True)
    form.add("code", "编码", QLineEdit(), hint="可不填")
    form.show()
    assert "*" in form.labels["name"].text() and "*" not in form.labels["code"].text()
    assert form.missing_required() == {"name": "请填写名称。"}
    form.show_errors({"name": "同一上级下已有名为“一社区”的辖区。", None: "其他问题"})
    assert form.errors["name"].isVisible()
    assert form.error_text("name") == "同一上级下已有名为“一社区”的辖区。"
    assert form.general_error.text() == "其他问题"
    assert form.show_exception(ValidationError("编码太长。", "code"))
    assert form.error_text("code") == "编码太长。" and form.error_text("name") == ""
    assert not form.show_exception(RuntimeError("x"))
    name.setText("一社区")
    assert form.value("name") == "一社区" and form.missing_required() == {}
    form.clear_errors()
    assert not form.errors["code"].isVisible()


def test_form_dialog_shows_every_error_of_a_validator_beside_its_field(qtbot):
    """#16 item 2: a validator returns all its FieldErrors; the form shows each beside its field at
    once (not only the first), and the next try clears them."""
    from PySide6.QtWidgets import QLineEdit

    from shell.errors import FieldError, ValidationErrors
    from shell.ui.widgets.form import FormDialog

    dialog = FormDialog(None, "登记", "errors-dialog")
    dialog.form.add("name", "姓名", QLineEdit())
    dialog.form.add("phone", "联系电话", QLineEdit())
    dialog.finish_layout()
    qtbot.addWidget(dialog)

    def refuse():
        raise ValidationErrors([FieldError("name", "请填写姓名。"), FieldError("phone", "联系电话“12”格式不对。", "12"),
                                FieldError("phone", "联系电话已被他人使用。"), FieldError("other", "辖区不对。")])

    ok, _ = dialog.call(refuse)
    assert not ok
    assert dialog.form.error_text("name") == "请填写姓名。"
    assert dialog.form.error_text("phone") == "联系电话“12”格式不对。\n联系电话已被他人使用。"
    assert dialog.form.general_error.text() == "辖区不对。"
    ok, value = dialog.call(lambda: 7)
    assert ok and value == 7 and dialog.form.error_text("name") == "" and dialog.form.error_text("phone") == ""
