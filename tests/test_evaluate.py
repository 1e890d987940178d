"""lib.evaluate: metrics on hand-made replies, the blind-test page, and the end-to-end tests: the tiny
stand-in tuned on the fictional couple must sound more like 이도윤 than the untuned one on replies it never
saw in training, and its replies must fit the moment better with the time line than without."""
from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import time

import pandas as pd
import pytest

from lib import blind, dataset, pairs, report, scores, style, timefit
from lib import evaluate as ev

HIS = ["ㅋㅋㅋㅋ 진짜?", "아니 나 지금 일어났어 ㅋㅋ", "배고파\n뭐 먹지 😋", "ㅇㅇ 알겠어", "헐 대박 ㅋㅋㅋ"]
HERS = ["오빠 오늘 뭐 해요?", "저는 지금 퇴근하고 있어요", "내일 같이 밥 먹을래요?", "조심히 들어가요~", "네 알겠어요"]


# ----------------------------------------------------------------------------- metrics, no model

def test_distinct_n_counts_unique_word_ngrams():
    assert scores.distinct_n(["a b a b"], 1) == 0.5
    assert scores.distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    assert scores.distinct_n(["x y", "x y"], 2) == 0.5
    assert scores.distinct_n([""], 1) == 0.0


def test_memory_index_finds_verbatim_and_near_copies_but_not_short_or_new_replies():
    mem = scores.MemoryIndex(["오늘 회사에서 진짜 너무 피곤했어 ㅋㅋ", "ㅇㅇ", "주말에 영화 보러 갈래?"])
    assert mem.is_copy("오늘 회사에서 진짜 너무 피곤했어 ㅋㅋ")            # verbatim
    assert mem.is_copy("오늘  회사에서 진짜 너무 피곤했어ㅋㅋ")             # spacing differs only
    assert mem.is_copy("오늘 회사에서 진짜 너무 피곤했다 ㅋㅋ")             # one syllable changed
    assert not mem.is_copy("ㅇㅇ")                                          # too short to call memorised
    assert not mem.is_copy("내일 아침에 같이 운동 갈래? 일찍 일어나자")
    assert mem.best_match("주말에 영화 보러 갈래")[0] > 0.9


def test_new_replies_are_those_never_said_in_training_whatever_the_spacing_or_laugh_length():
    mem = scores.MemoryIndex(["ㅋㅋㅋ 나도 배고파", "응 굿모닝", "😂"])
    assert mem.seen("ㅋㅋㅋㅋㅋ 나도  배고파!!") and mem.seen("응 굿모닝~") and mem.seen("😂")
    assert not mem.seen("나도 배고파 죽겠다") and not mem.seen("굿모닝") and not mem.seen("🤣")


def test_time_phrases_fit_the_hour_and_the_silence_before_her_message():
    assert timefit.kinds("굿모닝 ㅋㅋ 잘 잤어?") == {"morning"} and timefit.kinds("미안 ㅠ 슬슬 자야겠다") == {"sorry", "night"}
    assert timefit.fit("굿모닝 ㅋㅋ", hour=8, gap_hours=9) is True
    assert timefit.fit("굿모닝 ㅋㅋ", hour=23, gap_hours=0.1) is False
    assert timefit.fit("슬슬 자야겠다 잘 자", hour=0, gap_hours=None) is True
    assert timefit.fit("미안 이제 봤어", 15, 4.2) is True and timefit.fit("미안 이제 봤어", 15, 0.2) is False
    assert timefit.fit("미안 ㅠ 잘 자", 23, 0.5) is False        # one phrase that does not fit is enough
    assert timefit.fit("배고파", 8, 9) is None                    # says nothing about the time
    got = timefit.scores(replies=["굿모닝", "배고파", "잘 자", "ㅋㅋ"], real=["굿모닝 ㅋㅋ", "잘 자", "ㅋㅋ", "ㅇㅇ"],
                         hours=[8, 23, 13, 13], gaps=[9, 0, 0, 0])
    # timed prompts: the first two (their real reply has a time phrase); "배고파" does not fit the night
    assert got == {"appropriate": 0.5, "misplaced": 0.25, "prompts": 2.0}


def test_failure_flags_use_the_app_guards_and_catch_template_debris():
    mem = scores.MemoryIndex(["완전 새로운 문장을 하나 적어둔다"])
    prompt = {"her": "오늘 저녁에 뭐 먹을지 정했어요?", "history": [
        {"role": "user", "content": "오빠 뭐 해요"}, {"role": "assistant", "content": "그냥 누워서 유튜브 보는 중"},
        {"role": "user", "content": "오늘 저녁에 뭐 먹을지 정했어요?"}]}
    assert scores.failure_flags("오늘 저녁에 뭐 먹을지 정했어요?", prompt, mem)["echo"]
    assert scores.failure_flags("ㅋㅋ\n그냥 누워서 유튜브 보는 중", prompt, mem)["self_repeat"]
    assert scores.failure_flags("배고파 배고파 배고파 배고파 배고파", prompt, mem)["loop"]
    assert scores.failure_flags("  ", prompt, mem)["empty_or_broken"]
    assert scores.failure_flags("치킨 <|endoftext|>", prompt, mem)["empty_or_broken"]
    assert scores.failure_flags("완전 새로운 문장을 하나 적어둔다", prompt, mem)["memorised"]
    fine = scores.failure_flags("치킨 먹자 ㅋㅋ", prompt, mem)
    assert not fine.pop("any_failure") and not any(fine.values())


def test_style_distances_are_zero_for_the_same_replies_and_large_between_the_two_speakers():
    mine, hers = style.features(HIS * 4), style.features(HERS * 4)
    same = style.distances(mine, mine)
    assert all(v == pytest.approx(0.0) for v in same.values() if not math.isnan(v))
    apart = style.distances(mine, hers)
    assert apart["ending"] > 0.5 and apart["polite"] > 0.5 and apart["kk"] > 0.5
    longer = style.features([t + "가나다라마" for t in HIS * 4])   # every reply 5 chars longer
    assert style.distances(mine, longer)["chars"] == pytest.approx(5.0)


def test_speaker_classifier_needs_both_speakers():
    with pytest.raises(ValueError, match="at least 5 turns per speaker"):
        scores.SpeakerClassifier().fit(HIS[:2], HERS)


# ----------------------------------------------------------------------------- blind test page

def _samples(n=20):
    return [{"id": i, "her": f"{HERS[i % 5]} {i}", "real": f"{HIS[i % 5]} {i}", "base": "", "tuned": f"봇 답장 {i} ㅋㅋ",
             "history": [{"role": "user", "content": f"{HERS[i % 5]} {i}"}]} for i in range(n)]


def _page_parts(page: str):
    data = json.loads(re.search(r"var DATA = (.*);\n", page).group(1).replace("<\\/", "</"))
    key, salt = re.search(r'var KEY = "([^"]*)", SALT = "([0-9a-f]+)";', page).groups()
    return data, key, salt


def test_blind_pairs_mix_the_order_and_skip_unfair_questions():
    samples = _samples(40)
    samples[0]["tuned"] = samples[0]["real"]          # identical: not a question
    samples[1]["tuned"] = " "                         # the bot said nothing
    pairs = blind.make_pairs(samples, n=30, seed=1)
    assert len(pairs) == 30
    for p in pairs:
        real_text = p[p["real"]]
        assert real_text.startswith(tuple(HIS)) and p["b" if p["real"] == "a" else "a"].startswith("봇")
        assert not p["context"][-1]["content"].endswith((" 0", " 1"))   # the two unfair ones were skipped
    firsts = sum(p["real"] == "a" for p in pairs)
    assert 5 < firsts < 25                            # both positions used
    assert blind.score(pairs, [p["real"] for p in pairs]) == (30, 30)
    assert blind.score(pairs, ["a"] * 30) == (firsts, 30)
    with pytest.raises(ValueError, match="expected 30 picks"):
        blind.score(pairs, ["a"])
    with pytest.raises(ValueError, match="no usable pairs"):
        blind.make_pairs([{**s, "tuned": ""} for s in samples])


def test_blind_page_is_self_contained_and_hides_the_key_until_the_end(tmp_path):
    out = blind.write_page(_samples(), tmp_path / "blind.html", n=12, seed=3)
    page = out.read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page and " src=" not in page   # nothing external
    assert 'lang="ko"' in page and "진짜 답장" in page and "viewport" in page
    data, key, salt = _page_parts(page)
    assert len(data) == 12 and all(set(d) == {"context", "a", "b"} for d in data)   # no answer in the data
    pairs = blind.load_pairs(tmp_path / "blind_pairs.json")
    truth = [p["real"] for p in pairs]
    assert blind.decode_key(key, salt) == truth
    assert [d["a"] for d in data] == [p["a"] for p in pairs]
    # the stored bytes do not spell the answers: a constant pattern would give it away at a glance
    import base64
    assert [b & 1 for b in base64.b64decode(key)] != [a == "b" for a in truth]


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_blind_page_javascript_decodes_the_same_key(tmp_path):
    out = blind.write_page(_samples(), tmp_path / "blind.html", n=12, seed=5)
    page = out.read_text(encoding="utf-8")
    _, key, salt = _page_parts(page)
    fn = re.search(r"(function answers\(\)\{.*?return out;\})", page, re.S).group(1)
    js = f'var KEY = "{key}", SALT = "{salt}";\n{fn}\nconsole.log(JSON.stringify(answers()));'
    got = json.loads(subprocess.run(["node", "-e", js], capture_output=True, text=True, check=True).stdout)
    assert got == blind.decode_key(key, salt) == [p["real"] for p in blind.load_pairs(tmp_path / "blind_pairs.json")]


def test_load_blind_pairs_rejects_a_wrong_file(tmp_path):
    bad = tmp_path / "pairs.json"
    bad.write_text('{"pairs": [{"a": "x"}]}', encoding="utf-8")
    with pytest.raises(ValueError, match="expected"):
        blind.load_pairs(bad)


# ----------------------------------------------------------------------------- end to end on the tiny stand-in

@pytest.fixture(scope="module")
def evaluated(tiny_adapter, sample_dataset_dir):
    t0 = time.perf_counter()
    table = ev.evaluate(tiny_adapter, sample_dataset_dir, n_prompts=200, progress=False)
    return table, time.perf_counter() - t0


def v(table, group, metric, system, slice="all"):
    return report._get(table, group, metric, system, slice)


@pytest.mark.slow
def test_evaluate_returns_a_tidy_table_with_every_metric(evaluated):
    table, seconds = evaluated
    assert list(table.columns) == ["slice", "group", "metric", "system", "value"]
    assert set(table.slice) == {"all", "new"}
    assert set(table.group) >= {"slice", "loss", "style", "style distance", "classifier", "failure", "diversity", "time"}
    assert set(table.system) == {"real", "base", "tuned", "her", "tuned_no_time"}
    for sl in ("all", "new"):  # every metric on both slices
        assert set(table[table.slice == sl].groupby(["group", "metric", "system"]).groups) \
            == set(table[table.slice == "all"].groupby(["group", "metric", "system"]).groups)
    for group, metrics in {"loss": ["val_loss", "perplexity"], "failure": ["echo", "self_repeat", "loop",
                           "empty_or_broken", "memorised", "any_failure"], "diversity": ["distinct_1", "distinct_2"],
                           "style": ["chars", "bubbles", "kk", "hh", "emoji", "emoticon", "question", "filler",
                                     "ending=polite", "ending=banmal"]}.items():
        for m in metrics:
            for s in ("base", "tuned") if group == "loss" else ("real", "base", "tuned"):
                assert math.isfinite(v(table, group, m, s)), (group, m, s)
    assert v(table, "classifier", "heldout_accuracy", "real") > 0.9   # the two personas are easy to tell apart
    samples = table.attrs["samples"]
    n_val = len(dataset.load(table.attrs["dataset"])["validation"])
    assert len(samples) == table.attrs["n_prompts"] == min(200, n_val)
    assert all(set(s) >= {"history", "her", "real", "base", "tuned", "tuned_no_time", "time_line", "new"} for s in samples)
    assert v(table, "slice", "prompts", "real", "new") == sum(s["new"] for s in samples) > 0.5 * len(samples)
    # time-appropriateness: on the prompts whose real reply has a time phrase, which all fit (the persona)
    assert v(table, "time", "prompts", "real") >= 30 and v(table, "time", "appropriate", "real") == 1.0
    assert all(math.isfinite(v(table, "time", m, s)) for m in ("appropriate", "misplaced") for s in ("tuned", "tuned_no_time"))
    train = [r["messages"][-1]["content"] for r in dataset.load(table.attrs["dataset"])["train"]]
    seen = {pairs.reply_key(t) for t in train}
    assert all((pairs.reply_key(s["real"]) not in seen) == s["new"] for s in samples)
    per_200 = seconds / len(samples) * 200
    assert per_200 < 120, f"{len(samples)} prompts took {seconds:.0f}s (issue 7 §4: 200 in under 2 minutes on CPU)"


@pytest.mark.slow
def test_tuned_stand_in_moves_toward_my_style_on_replies_it_never_saw(evaluated):
    """Issue 7 §3, issue 14 §2: a broken training run or chat template must fail here, not just look worse.
    Read on the new replies (real reply never in training), where copying his usual lines earns nothing.

    Measured on the sample (tiny-neox, 60 QLoRA steps; 177 of 200 prompts new): classifier share
    0.42 -> 0.81, ~요 endings 0.55 -> 0.29, loss 2.77 -> 2.69, mean JS distance 0.29 -> 0.20 (all prompts:
    0.43 -> 0.80, 0.55 -> 0.31, 2.80 -> 2.72, 0.28 -> 0.20). The margins are about half of those moves.
    """
    table, _ = evaluated
    new = lambda group, metric, s: v(table, group, metric, s, "new")  # noqa: E731
    share = {s: new("classifier", "share_attributed_to_me", s) for s in ("base", "tuned", "real")}
    polite = {s: new("style", "ending=polite", s) for s in ("base", "tuned", "real")}
    loss = {s: new("loss", "val_loss", s) for s in ("base", "tuned")}
    rates = [k for k, kind in style.FEATURE_KINDS.items() if kind != "length"]
    dist = report.pivot(table, "style distance", "new").loc[rates, ["base", "tuned"]].mean()
    msg = f"share me {share}, ~요 endings {polite}, loss {loss}, mean JS distance {dist.to_dict()}"
    assert share["tuned"] >= share["base"] + 0.19, msg
    assert polite["tuned"] <= polite["base"] - 0.13, msg
    assert loss["tuned"] <= loss["base"] - 0.04, msg
    assert dist["tuned"] <= dist["base"] - 0.045, msg
    assert new("failure", "memorised", "tuned") <= 0.10, "the tuned stand-in copies training replies"


def _timed_chat(days: int = 100):
    """A chat where his reply depends on the time of her message and on nothing else: good morning at 8,
    good night at 23, a plain answer at 14, to the same few messages of hers."""
    import random
    from datetime import datetime, timedelta

    rng = random.Random(0)
    hers = ["오빠 뭐 해요?", "오늘 미세먼지 진짜 심해요", "회사 언니가 청첩장 줬어요", "주말에 영화 볼래요?"]
    his = {8: ["굿모닝 ㅋㅋ", "굿모닝~", "좋은 아침"], 14: ["ㅇㅋ ㅋㅋ", "오 좋다", "헐 진짜?"], 23: ["잘 자 ㅋㅋ", "나도 이제 잘게", "굿밤"]}
    rows = []
    for d in range(days):
        for hour, replies in his.items():
            for k in range(3):
                at = datetime(2025, 3, 3, hour) + timedelta(days=d, minutes=10 * k)
                rows += [(at, "최서연", rng.choice(hers)), (at + timedelta(minutes=1), "이도윤", rng.choice(replies))]
    df = pd.DataFrame(rows, columns=["time", "speaker", "text"]).assign(kind="text")
    df.attrs.update(title="최서연", saved_at=None, format="test", warnings=[], source="test")
    return df


def test_a_number_the_model_writes_is_masked_before_it_is_scored_or_shown(tiny_base):
    """Issue 11 §3: a model can reproduce a memorised phone number or make one up; evaluate's replies feed
    eval.md and her blind test, so they get the page's guard."""
    import torch

    from lib import models

    tok = models.load_tokenizer(tiny_base)
    said = "내 번호 010-2947-5831 이야 ㅋㅋ 메일은 doyoon.lee@example.com"
    reply = tok(said, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]

    class Parrot(torch.nn.Module):   # a model that always writes `said`
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def generate(self, input_ids, **_):
            return torch.cat([input_ids, torch.tensor([reply] * len(input_ids))], dim=1)

    prompts = [{"history": [{"role": "user", "content": "오빠 번호 바꿨어요?"}], "real": "응"}]
    (out,) = ev.generate(Parrot(), tok, prompts, progress=False)
    assert "2947" not in out and "doyoon" not in out, out
    assert "<전화번호>" in out and out.startswith("내 번호") and "ㅋㅋ" in out


@pytest.mark.slow
def test_a_reply_that_depends_on_the_time_is_learned_from_the_time_line(tiny_base, tmp_path):
    """Issue 14 §1, end to end: dataset time fields -> time line before the reply -> QLoRA -> prompt with the
    line. On a chat where only the time tells morning from night, the tiny stand-in (100 steps, sample-cpu
    settings) learns it: 0.92 of the timed validation replies fit the time with the line, 0.16 without
    (misplaced 0.03 vs 0.30); the margin is about half that gap. A dropped or misplaced line fails here.
    On the sample chat, where a habit is one bubble among others, 60 steps are not enough: 0.12 with the
    line, 0.08 without (eval.md reports it and says so)."""
    from lib import config, train

    prof = config.load_profile("sample-cpu")
    data = tmp_path / "data"
    dataset.build(_timed_chat(), "이도윤", data, max_duplicate_targets=10 ** 6, progress=False)
    run = train.train("tiny-neox", data, run_name="run", out_root=tmp_path / "runs", bnb=prof["bnb"], lora=prof["lora"],
                      sft={**prof["sft"], "max_steps": 100}, generation=prof["generation"], point=False)
    prompts = ev.load_prompts(data, 60)
    model, tok = ev.load_model(run, "cpu")
    got = {}
    with ev._merged(model):
        for with_line in (True, False):
            replies = ev.generate(model, tok, prompts, generation=prof["generation"], progress=False, time_line=with_line)
            got[with_line] = timefit.scores(replies, [p["real"] for p in prompts], [p["hour"] for p in prompts],
                                            [p["gap_hours"] for p in prompts])
    assert got[True]["prompts"] >= 30, got
    assert got[True]["appropriate"] >= got[False]["appropriate"] + 0.38, got
    assert got[True]["misplaced"] <= got[False]["misplaced"], got


@pytest.mark.slow
def test_report_and_blind_page_from_a_real_run(evaluated, tmp_path):
    table, _ = evaluated
    md = report.write(table, out_dir=tmp_path)
    text = md.read_text(encoding="utf-8")
    assert "## Verdict (new replies)" in text and "Verdict:" in text and "perplexity" in text
    assert "whose real reply never occurs in training" in text and "tuned (new)" in text
    assert "## Replies that fit the moment" in text and "with the time line" in text
    assert "**tuned without the time line:**" in text and "· " in text
    assert (tmp_path / "eval_style.png").stat().st_size > 10_000
    assert len(pd.read_csv(tmp_path / "eval.csv")) == len(table)
    assert sum(1 for _ in open(tmp_path / "samples.jsonl", encoding="utf-8")) == len(table.attrs["samples"])
    page = blind.write_page(table.attrs["samples"], tmp_path / "blind_test.html", n=12)
    assert len(_page_parts(page.read_text(encoding="utf-8"))[0]) == 12


@pytest.mark.slow
def test_cli_blind_generates_fresh_replies_and_writes_the_page(tiny_adapter, sample_dataset_dir, tmp_path, capsys):
    out = tmp_path / "b.html"
    assert ev.main(["blind", "--adapter", str(tiny_adapter), "--dataset", str(sample_dataset_dir), "--n", "4",
                    "--n-prompts", "8", "--out", str(out)]) == 0
    assert len(_page_parts(out.read_text(encoding="utf-8"))[0]) == 4
    assert "blind test:" in capsys.readouterr().out


# ----------------------------------------------------------------------------- the Streamlit page

def test_streamlit_blind_page_keeps_the_key_on_the_server_and_scores(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from lib import config

    for key in [k for k in __import__("os").environ if k.startswith("MALBEOT_")]:
        monkeypatch.delenv(key)
    blind.write_page(_samples(), tmp_path / "blind.html", n=4, seed=2)
    pairs = blind.load_pairs(tmp_path / "blind_pairs.json")
    at = AppTest.from_file(str(config.ROOT / "app" / "streamlit_app.py"), default_timeout=60)
    at.secrets["app_password"] = "pw-blind-7"
    at.secrets["blind_pairs"] = str(tmp_path / "blind_pairs.json")
    at.switch_page("views/blind.py").run()
    assert not at.exception and len(at.text_input) == 1         # the password gate comes first
    assert "pick-0-a" not in [b.key for b in at.button]
    at.text_input[0].input("pw-blind-7")
    at.button[0].click()
    at.run()
    picks = []
    for i, p in enumerate(pairs):
        shown = " ".join(m.value for m in at.markdown)
        assert "진짜는" not in shown and f"{i + 1} / 4" in at.get("progress")[0].proto.text
        choice = p["real"] if i < 3 else ("b" if p["real"] == "a" else "a")   # 3 right, 1 wrong
        picks.append(choice)
        at.button(key=f"pick-{i}-{choice}").click()
        at.run()
        assert not at.exception
    assert at.metric[0].value == "3 / 4"
    assert blind.verdict(3, 4) in at.success[0].value
    next(b for b in at.button if b.label == "다시 하기").click()
    at.run()
    assert "1 / 4" in at.get("progress")[0].proto.text


@pytest.mark.browser
@pytest.mark.slow
def test_blind_page_in_a_real_browser_scores_only_after_the_last_pick(tmp_path):
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("chromium / chromedriver not installed (make browser)")
    from selenium import webdriver
    from selenium.webdriver.common.by import By

    out = blind.write_page(_samples(), tmp_path / "blind.html", n=5, seed=4)
    truth = [p["real"] for p in blind.load_pairs(tmp_path / "blind_pairs.json")]
    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=400,860"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(options=opts, service=webdriver.ChromeService(shutil.which("chromedriver")))
    try:
        driver.get(out.as_uri())
        for i, answer in enumerate(truth):
            assert f"{i + 1} / 5" in driver.find_element(By.CLASS_NAME, "progress").text
            assert not driver.find_elements(By.CLASS_NAME, "score")          # no score, no key yet
            pick = answer if i != 0 else ("b" if answer == "a" else "a")     # first one wrong
            driver.find_elements(By.CSS_SELECTOR, "button.opt")["ab".index(pick)].click()
        score = driver.find_element(By.CLASS_NAME, "score").text
        assert "4개" in score and blind.verdict(4, 5) in score
        reviews = driver.find_elements(By.CLASS_NAME, "rev")
        assert len(reviews) == 5 and "오답" in reviews[0].text and "정답" in reviews[1].text
        assert all(f"진짜는 {a.upper()}" in r.text for a, r in zip(truth, reviews))
    finally:
        driver.quit()
