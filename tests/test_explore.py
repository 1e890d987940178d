"""lib.explore on the fictional sample and on tiny hand-made chats: right counts, no raw text leaks."""
import pandas as pd
import pytest

from lib import explore, plots, sample

ME, HER = sample.ME, sample.HER


@pytest.fixture(scope="module")
def df():
    d = sample.generate()
    d.attrs.update(format="pc_ko", warnings=[])
    return d


def chat(rows, warnings=()):
    d = pd.DataFrame(rows, columns=["time", "speaker", "text", "kind"])
    d["time"] = pd.to_datetime(d["time"])
    d.attrs.update(format="pc_ko", title="t", saved_at=None, warnings=list(warnings), source="x")
    return d


def test_summary_and_kinds(df):
    s = explore.summary(df).set_index("item")["value"]
    assert s["records"] == str(len(df)) and s["speakers"] == "2" and s["format"] == "pc_ko"
    assert s["system rows"] == "2" and int(s["multi-line messages"]) >= 5
    k = explore.records_by_kind(df, ME)
    assert list(k.index) == [ME, HER, "(system)", "total"]
    assert k.loc["total", "total"] == len(df) and k.loc["(system)", "system"] == 2
    assert (k.drop(index="total").drop(columns="total").sum(axis=1) == k["total"].drop("total")).all()


def test_warnings_lose_their_quoted_lines():
    w = ["a.txt: line 12 could not be placed (after a date line); kept as continuation text: '민준 010-2741-8836'",
         "a.txt: line 40 could not be placed (after a date line); kept as continuation text: \"서울 마포구\"",
         "a.txt: file ends mid-character (cut off?); the partial character was dropped"]
    table = explore.warning_summary(chat([], w))
    text = " ".join(table["warning"])
    assert "민준" not in text and "010" not in text and "마포구" not in text
    assert sorted(table["count"]) == [1, 2]  # the two placement warnings are one kind
    assert explore.warning_summary(chat([])).empty


def test_per_day_hours_and_turns(df):
    n = df["speaker"].notna().sum()
    daily = explore.per_day(df, ME)
    assert list(daily.columns) == [ME, HER] and daily.to_numpy().sum() == n
    assert len(daily) == (df["time"].max().normalize() - df["time"].min().normalize()).days + 1
    grid = explore.hour_weekday(df, ME)
    assert len(grid) == 2 * 7 * 24 and grid["messages"].sum() == n
    assert grid.loc[grid["hour"].between(3, 5), "messages"].sum() == 0
    t = explore.turns(df)
    assert t["bubbles"].sum() == n
    by = t.groupby("speaker")["bubbles"].mean()
    assert by[ME] > by[HER]  # he writes in bursts
    stats = explore.length_stats(df, ME)
    assert stats.loc[ME, "chars median"] < stats.loc[HER, "chars median"]


def test_reply_latency_by_hand():
    d = chat([
        ("2025-01-01 10:00", HER, "뭐 해요?", "text"), ("2025-01-01 10:01", HER, "오빠", "text"),
        ("2025-01-01 10:03", ME, "ㅋㅋ 일해", "text"), ("2025-01-01 10:03", None, "x님이 나갔습니다.", "system"),
        ("2025-01-01 10:10", HER, "네", "text"),
        ("2025-01-01 18:00", ME, "퇴근", "text"),       # 7h50 later: a new conversation, not a reply
        ("2025-01-01 18:00", HER, "고생했어요", "text"),
    ])
    lat = explore.reply_latency(d)
    assert lat.to_dict("records") == [
        {"from": HER, "to": ME, "minutes": 2.0}, {"from": ME, "to": HER, "minutes": 7.0},
        {"from": ME, "to": HER, "minutes": 0.0}]
    stats = explore.latency_stats(d, ME)
    assert stats.loc[ME, "replies"] == 1 and stats.loc[HER, "median min"] == 3.5


def test_style_by_speaker(df):
    r = explore.style_by_speaker(df, ME)
    assert list(r.columns) == [ME, HER]
    assert r.loc["polite_share", ME] < 0.05 < 0.9 < r.loc["polite_share", HER]
    assert r.loc["kk", ME] > r.loc["kk", HER] and r.loc["hh", HER] > r.loc["hh", ME]


def test_top_words_hold_no_personal_data(df):
    part = df[df["time"] < df["time"].min() + pd.Timedelta(days=10)]
    extra = chat([(part["time"].max(), ME, "민준이가 지훈이랑 서연이 집 앞에 왔어", "text")] * 40)
    words = explore.top_words(pd.concat([part, extra]), n=20, me=ME)
    assert set(words["speaker"]) == {ME, HER} and words.groupby("speaker")["rank"].max().min() == 20
    assert words["word"].str.fullmatch(r"[가-힣]+").all() and set(words["pos"]) <= explore.WORD_TAGS
    names = sample.planted()["name"]  # 이도윤, 도윤, 민준, ...: neither a word nor inside one
    assert not [w for w in words["word"] for n in names if n in w or (len(w) >= 2 and w in n)]
    assert words.loc[words["speaker"] == ME, "word"].isin(["오다", "집"]).any()  # the rest of that sentence counts


def test_figures(df, tmp_path):
    figs = {
        "kinds": explore.plot_kinds(explore.records_by_kind(df, ME)),
        "day": explore.plot_per_day(explore.per_day(df, ME)),
        "hours": explore.plot_hour_weekday(explore.hour_weekday(df, ME)),
        "lengths": explore.plot_lengths(df, ME),
        "latency": explore.plot_latency(explore.reply_latency(df), ME),
        "style": explore.plot_style(explore.style_by_speaker(df, ME)),
        "words": explore.plot_top_words(pd.DataFrame({"speaker": [ME, HER], "rank": [1, 1], "word": ["밥", "잠"],
                                                      "pos": ["NNG"] * 2, "count": [3, 2]})),
    }
    for name, fig in figs.items():
        path = plots.save(fig, f"01_{name}.png", tmp_path)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plots.use_korean_font() is not None  # Hangul labels need a CJK font
