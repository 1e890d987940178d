"""The bundled fictional couple: a deterministic KakaoTalk chat between 이도윤 ("me") and 최서연 ("her").

`generate(seed)` builds the frame (same columns as `lib.kakao.read_chat`); `write_sample()` renders it
in every export format into data/sample/ together with planted.json (the fake personal data inside).

Everything here is invented: names, numbers, the address, the account. The two styles are deliberately
easy to tell apart so a tiny model can learn "reply like 이도윤": he answers in short bursts of 1-4
bubbles with ㅋㅋ, emoji and 반말 endings; she writes longer single sentences ending in ~요, with ㅎㅎ.

    python -m lib.sample            # rewrite data/sample/ (`make sample`)
"""
from __future__ import annotations

import argparse
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from lib import config
from lib.fileio import write_json, write_text

ME, HER = "이도윤", "최서연"
TITLE = HER                      # a 1:1 export is titled after the other person
START = datetime(2025, 3, 3)     # a Monday
DAYS = 122                       # ~4 months
SAVED_AT = datetime(2025, 7, 3, 0, 12, 41)
FULL_FORMATS = ("pc_ko",)  # the pipeline default holds the whole chat ...
WINDOW_DAYS = 56           # ... the other formats its first 8 weeks, to keep data/sample/ under 2 MB

# ---------------------------------------------------------------------------------------------
# Fake personal data. planted.json lists every raw value so the privacy tests can prove none leaks.
FRIENDS = ["민준", "지훈", "수빈", "하은", "예린"]  # all end in a batchim: 민준이가, 지훈아, 수빈이랑
PHONES = {  # one fictional number written the many ways people type it
    "dash": "010-2741-8836", "dot": "010.2741.8836", "plain": "01027418836",
    "space": "010 2741 8836", "hangul": "공일공 이칠사일 팔팔삼육",
}
PHONE_MOM = "010-5913-0472"
ADDRESS = "서울 마포구 월드컵로 123 107동 1203호"
ADDRESS_OFFICE = "서울 강남구 테헤란로 427 위워크 9층"
ACCOUNT = ("카카오뱅크", "3333-17-4829105")
ACCOUNT_HIS = ("신한", "110-482-771903")
EMAIL = "seoyeon.choi0412@naver.com"
INSTAGRAM = "@doyun_lee.film"
KAKAO_ID = "sy_choi0412"

# ---------------------------------------------------------------------------------------------
# Slot values. Templates below use {slot}; `_fill` picks one value per slot per message.
SLOTS = {
    "food": ["김치찌개", "돈까스", "마라탕", "쌀국수", "제육볶음", "샐러드", "떡볶이", "초밥", "라멘",
             "부대찌개", "비빔밥", "파스타", "햄버거", "칼국수", "순대국", "연어덮밥"],
    "dinner": ["삼겹살", "치킨", "피자", "곱창", "족발", "닭갈비", "회", "짜장면"],
    "place": ["연남동", "성수", "망원", "합정", "을지로", "익선동", "한남동", "서촌"],
    "movie": ["파묘", "듄", "인사이드 아웃", "범죄도시", "위키드", "미키17"],
    "drama": ["선재 업고 튀어", "눈물의 여왕", "폭싹 속았수다", "흑백요리사"],
    "cafe": ["블루보틀", "스타벅스", "어니언", "카페 레이어드", "프릳츠"],
    "time": ["6시", "6시 반", "7시", "7시 반", "8시"],
    "day": ["토요일", "일요일", "금요일 저녁", "다음 주 토요일"],
    "friend": FRIENDS,
    "weather": ["비", "눈", "황사", "미세먼지"],
    "exercise": ["헬스", "필라테스", "러닝", "클라이밍", "수영"],
    "n": ["두", "세", "네"],
}

# Exchanges per topic: her opener (polite, one sentence, sometimes two bubbles) -> his possible replies
# (short 반말 bubbles; `_his` adds ㅋㅋ / emoji on top). "|" splits bubbles.
EXCHANGES = {
    "morning": [
        ("좋은 아침이에요 오빠, 잘 잤어요?", ["응 잘 잤어|너는?", "아니 완전 못 잤어", "굿모닝|오늘도 화이팅"]),
        ("오빠 일어났어요? 저는 지금 지하철 타러 가요", ["응 방금 일어났어", "나도 지금 나가", "헐 나 지금 일어났어|지각이야"]),
        ("오늘 아침 진짜 추워요, 옷 따뜻하게 입고 나가요", ["응 패딩 입었어", "알겠어|너도 따뜻하게 입어"]),
        ("어제 늦게 잤더니 너무 졸려요", ["나도 졸려 죽겠어", "커피 마셔|무조건이야"]),
        ("출근 잘 하고 있어요? 저는 방금 회사 도착했어요", ["응 지하철이야", "나도 거의 다 왔어", "오 빠르네"]),
        ("오늘 {weather} 온대요, 우산 꼭 챙겨요", ["응 우산 챙겼어|고마워", "헐 몰랐어", "아 놓고 왔다"]),
        ("오늘 아침에 {food} 먹었어요, 오빠는 아침 먹었어요?", ["아니 굶었어", "빵 먹었어", "아침은 사치야"]),
    ],
    "lunch": [
        ("오빠 점심 먹었어요? 저는 {food} 먹었어요", ["나 {food} 먹었어", "아직|이따 먹을 거야", "오 맛있겠다"]),
        ("오늘 점심 뭐 먹을지 고민이에요, 추천해줘요", ["{food} 먹어|무조건이야", "{food} 어때", "나랑 같은 거 먹자|{food}"]),
        ("회사 앞에 {food} 집 새로 생겼는데 맛있어요", ["오 거기 나도 가볼래", "담에 같이 가자", "얼마야?"]),
        ("점심 먹고 {cafe} 왔어요, 라떼 마시는 중이에요", ["나도 커피 마시고 싶다", "오 부럽다", "나 아아 사줘"]),
        ("오늘은 너무 바빠서 점심을 못 먹었어요", ["헐 밥은 먹어야지", "아 안돼|뭐라도 먹어", "편의점이라도 가"]),
        ("팀장님이 {food} 사주셔서 맛있게 먹었어요", ["오 좋은 팀장님이네", "부럽다", "나도 사줘"]),
        ("오빠 회사 근처에 맛집 있어요?", ["{food} 집 하나 있어", "없어|다 별로야", "다음에 데려갈게"]),
    ],
    "work": [
        ("오늘 회의가 세 개나 있어서 정신이 하나도 없어요", ["헐 고생한다", "힘내|조금만 버텨", "나도 두 개야"]),
        ("오빠는 오늘 일 많아요?", ["나도 완전 바빠", "아니 오늘은 널널해", "나 오늘 야근각이야"]),
        ("퇴근하고 싶어요, 시간이 너무 안 가요", ["퇴근하고 싶다 진짜", "나도|아직 4시야", "조금만 참아"]),
        ("방금 발표 끝났어요, 생각보다 잘 된 것 같아요", ["오 잘했네|역시", "대박|고생했어", "내가 뭐랬어|잘할 거랬지"]),
        ("오늘 야근할 것 같아요, 저녁 먼저 먹어요", ["헐|몇 시까지야?", "알겠어|끝나면 연락해", "데리러 갈까?"]),
        ("팀장님이 오늘 기분이 좋으셔서 다행이에요", ["다행이다", "오 오늘 운 좋네"]),
        ("새로 온 인턴이 일을 너무 잘해요", ["오 좋겠다", "우리 팀도 보내줘"]),
    ],
    "evening": [
        ("오빠 퇴근했어요? 저는 지금 버스 탔어요", ["응 방금 나왔어", "아직|30분 남았어", "집 가는 중이야"]),
        ("저녁은 뭐 먹을 거예요?", ["나 {dinner} 먹을래", "몰라|배달 시킬까", "라면"]),
        ("오늘 저녁에 {dinner} 먹을래요? 갑자기 너무 먹고 싶어요", ["좋아|{dinner} 가자", "콜", "오늘은 안 돼|내일 먹자"]),
        ("집에 도착했어요, 오늘 진짜 피곤했어요", ["고생했어|얼른 쉬어", "씻고 누워", "나도 방금 왔어"]),
        ("오늘 {exercise} 다녀왔어요, 너무 힘들었어요", ["대박|또 갔어?", "멋있다", "나도 가야 되는데"]),
        ("퇴근길에 {weather} 와서 다 젖었어요", ["헐 괜찮아?|감기 조심해", "우산 없었어?", "따뜻한 물로 씻어"]),
        ("오늘 엄마가 반찬 보내주셔서 저녁 해 먹으려고요", ["오 좋겠다", "나도 먹고 싶다", "뭐 보내주셨어?"]),
    ],
    "night": [
        ("오빠 뭐 해요? 저는 {drama} 보고 있어요", ["나 유튜브 보는 중", "나 게임하고 있었어", "그거 재밌어?"]),
        ("오늘 하루 어땠어요?", ["그냥 그랬지 뭐|너는 어땠어?", "완전 바빴어", "좋았어|너랑 통화해서"]),
        ("내일 몇 시에 일어나요?", ["7시에 일어나야 돼", "6시 반", "몰라|알람 맞춰놨어"]),
        ("이제 자려고 누웠어요, 오빠도 일찍 자요", ["응 나도 잘게|잘 자", "조금만 더 놀다 잘게", "잘 자|꿈에서 봐"]),
        ("오늘 {friend}이랑 통화했는데 다음 달에 결혼한대요", ["헐 진짜?|축하한다고 전해줘", "대박|언제?", "빠르다"]),
        ("주말에 뭐 할지 생각해봤어요?", ["아직 생각 안 했어|같이 정하자", "{place} 가자", "집에서 쉬자"]),
        ("잠이 안 와요, 오빠는 안 졸려요?", ["나도 안 졸려", "졸려 죽겠어", "전화할까?"]),
    ],
    "plans": [
        ("{day}에 {place} 갈래요? 가보고 싶은 카페가 있어요", ["좋아|가자", "콜", "오 거기 좋지"]),
        ("{movie} 개봉했대요, 이번 주말에 볼까요?", ["오 좋다|그거 보자", "그거 재밌대", "예매할게"]),
        ("{day}에 {friend}이랑 {friend2}이 같이 밥 먹자는데 괜찮아요?", ["난 다 좋아", "응 괜찮아|재밌겠다", "그날은 안 돼|다른 날 하자"]),
        ("다음 달에 여행 가는 거 어디로 할지 정했어요?", ["제주도 어때", "부산 가자", "아직|같이 찾아보자"]),
        ("{day} 몇 시에 만날까요?", ["그래 {time}에 보자", "{time} 어때", "너 편한 시간"]),
        ("이번 주말에 비 온대요, 실내 데이트 할까요?", ["전시회 가자", "영화 보자", "방탈출 어때"]),
        ("우리 {day}에 {place}에서 {dinner} 먹을래요?", ["콜", "좋아|예약할게", "거기 줄 길어"]),
    ],
    "date": [  # after meeting in person
        ("오늘 데이트 너무 좋았어요, 데려다줘서 고마워요", ["나도 좋았어", "집 잘 들어갔어?", "다음에 또 가자"]),
        ("오늘 먹은 {dinner} 진짜 맛있었어요", ["ㅇㅈ|또 가자", "거기 맛집이네", "다음엔 내가 살게"]),
        ("{place} 사람 너무 많았죠? 다리 아파요", ["완전 많았어", "나도 다리 아파", "그래도 재밌었다"]),
        ("오빠 오늘 입은 옷 잘 어울렸어요", ["진짜?|또 입어야지", "너가 골라준 거잖아", "너도 이뻤어"]),
        ("집 도착했어요, 오빠도 조심히 들어가요", ["응 거의 다 왔어", "도착|잘 자", "오늘 고마워"]),
    ],
    "random": [
        ("오빠 이 노래 알아요? 요즘 계속 듣고 있어요", ["몰라|제목 뭐야?", "오 나도 알아", "들어볼게"]),
        ("회사 언니가 결혼한다고 청첩장 줬어요", ["오 축하드린다고 해", "언제래?", "요즘 결혼 많이 하네"]),
        ("오늘 {cafe}에서 신메뉴 마셔봤는데 별로였어요", ["아 그래?", "돈 아깝다", "원래 먹던 거 먹어"]),
        ("{friend}이가 고양이 입양했대요, 너무 귀여워요", ["오 부럽다", "사진 보여줘", "이름 뭐래?"]),
        ("요즘 {drama} 너무 재밌어요, 오빠도 봐요", ["몇 화까지 나왔어?", "주말에 볼게", "그거 다들 보더라"]),
        ("다음 주에 건강검진 받아요, 금식해야 돼서 걱정이에요", ["힘내|끝나고 맛있는 거 먹자", "몇 시에 가?"]),
    ],
    "care": [
        ("오빠 오늘 목소리가 안 좋던데 감기 걸린 거 아니에요?", ["아니야 괜찮아", "좀 그런 거 같아", "목만 좀 아파"]),
        ("약은 먹었어요? 꼭 챙겨 먹어요", ["응 먹었어|걱정 마", "아 까먹었다", "이따 먹을게"]),
        ("요즘 너무 무리하는 것 같아요, 좀 쉬어요", ["알겠어|쉴게", "이번 주만 버티면 돼", "너도"]),
        ("오늘 힘든 일 있었어요? 말투가 좀 다운된 것 같아요", ["그냥 좀 피곤해서 그래", "아니야|괜찮아", "회사 일 때문에 좀"]),
        ("오빠 요즘 잠은 잘 자요?", ["응 잘 자", "아니 요즘 좀 못 자", "너 생각 하느라 못 자"]),
    ],
}

# Follow-ups after his reply: her reaction, then often his closing bubble.
HER_FOLLOW = ["ㅎㅎ 알겠어요", "그럼 이따 연락해요", "좋아요 ㅎㅎ", "진짜요? 다행이에요", "웅 알겠어요, 이따 봐요",
              "그럼 그렇게 해요 ㅎㅎ", "너무 좋아요", "헐 진짜요?", "오빠 고마워요", "아 그래요? 몰랐어요",
              "저도 보고 싶어요", "오빠 최고예요 ㅎㅎ"]
ME_FOLLOW = ["응응", "ㅇㅇ", "웅", "알겠어", "좋아", "이따 봐", "보고 싶다", "사랑해", "그치", "ㅇㅋ", "굿"]
ME_OPEN = {  # he starts some sessions: his opener -> her polite answers
    "morning": [("굿모닝", ["좋은 아침이에요 ㅎㅎ", "오빠도 굿모닝이에요"]), ("일어났어?", ["네 일어났어요, 준비하는 중이에요"])],
    "lunch": [("밥 먹었어?", ["아직이요, 이따 먹으려고요", "네 {food} 먹었어요"]), ("점심 뭐 먹어?", ["저는 {food} 먹으려고요"])],
    "evening": [("퇴근했다", ["오빠 고생했어요", "저도 방금 퇴근했어요"]), ("오늘 저녁 뭐 먹어?", ["저는 {dinner} 먹을 거예요"])],
    "night": [("뭐 해?", ["저는 씻고 누웠어요", "{drama} 보고 있어요"]), ("자?", ["아니요 아직 안 잤어요"]),
              ("오늘 고생했어", ["오빠도 고생했어요, 푹 쉬어요"])],
}

AFTERTHOUGHTS = ["진짜로", "ㅋㅋㅋㅋ", "아 그리고", "암튼", "ㅇㅇ", "인정", "그치", "ㄹㅇ"]
EMOJI = ["😂", "👍", "❤️", "🥺", "😋", "😴", "🔥", "🙏", "🤣", "😍"]


class _Writer:
    """Accumulates rows; each record is one bubble (time, speaker, text, kind)."""

    def __init__(self, rng: random.Random):
        self.rng, self.rows = rng, []

    def add(self, t: datetime, speaker: str | None, text: str, kind: str = "text") -> None:
        self.rows.append((t, speaker, text, kind))


def _fill(rng: random.Random, template: str) -> str:
    out = template
    for slot, values in SLOTS.items():
        while "{" + slot + "}" in out:
            out = out.replace("{" + slot + "}", rng.choice(values), 1)
    if "{friend2}" in out:  # a second, different friend
        out = out.replace("{friend2}", rng.choice([f for f in FRIENDS if f not in out]))
    return out


def _his(rng: random.Random, template: str) -> list[str]:
    """His reply bubbles: the template's bubbles plus his habits (ㅋㅋ bursts, an emoji, no period)."""
    bubbles = [_fill(rng, b) for b in template.split("|")]
    r = rng.random()
    if r < 0.3:
        bubbles[-1] += " " + "ㅋ" * rng.randint(2, 5)
    elif r < 0.55:
        bubbles.insert(0, "ㅋ" * rng.randint(3, 7))
    if rng.random() < 0.15:  # a second thought in its own bubble
        bubbles.append(rng.choice(AFTERTHOUGHTS))
    if rng.random() < 0.3:
        bubbles[-1] += " " + rng.choice(EMOJI)
    elif rng.random() < 0.1:
        bubbles.append(rng.choice(EMOJI))
    return bubbles[:4]


def _hers(rng: random.Random, template: str) -> list[str]:
    bubbles = [_fill(rng, b) for b in template.split("|")]
    r = rng.random()
    if r < 0.3:
        bubbles[-1] += " ㅎㅎ"
    elif r < 0.34:
        bubbles.append("ㅎㅎㅎ")
    elif r < 0.36:
        bubbles[-1] += " 🥰"
    return bubbles


# Session slots: (name, start window in minutes after midnight on weekdays, on weekends, probability)
SLOTS_OF_DAY = [
    ("morning", (7 * 60 + 20, 8 * 60 + 40), (9 * 60 + 30, 11 * 60), 0.85),
    ("lunch", (12 * 60, 13 * 60 + 10), (12 * 60 + 30, 14 * 60), 0.75),
    ("work", (14 * 60 + 30, 17 * 60), None, 0.4),
    ("evening", (18 * 60, 20 * 60 + 30), (17 * 60, 19 * 60), 0.8),
    ("night", (22 * 60, 24 * 60 + 20), (22 * 60 + 30, 24 * 60 + 50), 0.8),
]
TOPICS_FOR = {"morning": ["morning"], "lunch": ["lunch", "work"], "work": ["work", "plans", "care", "random"],
              "evening": ["evening", "plans", "care", "random"], "night": ["night", "plans", "random"],
              "date night": ["date", "night"]}


def _latency(rng: random.Random) -> int:
    """Minutes before the other one answers: usually at once, sometimes after a meeting."""
    r = rng.random()
    return 0 if r < 0.45 else rng.randint(1, 4) if r < 0.85 else rng.randint(8, 45)


def _session(w: _Writer, t: datetime, slot: str, specials: list) -> datetime:
    rng = w.rng
    topics = TOPICS_FOR[slot]
    if slot in ME_OPEN and rng.random() < 0.3:  # he opens, she answers, then the usual exchanges
        opener, answers = rng.choice(ME_OPEN[slot])
        w.add(t, ME, opener)
        t += timedelta(minutes=_latency(rng))
        w.add(t, HER, _fill(rng, rng.choice(answers)))
        t += timedelta(minutes=_latency(rng))
        for b in _his(rng, rng.choice(ME_FOLLOW)):
            w.add(t, ME, b)
    pool = [ex for topic in topics for ex in EXCHANGES[topic]]
    for opener, replies in rng.sample(pool, rng.randint(2, 4)):
        t += timedelta(minutes=rng.randint(1, 6))
        if specials and rng.random() < 0.5:  # a planted or placeholder exchange replaces a plain one
            t = specials.pop(0)(w, t)
            continue
        for b in _hers(rng, opener):
            w.add(t, HER, b)
            t += timedelta(minutes=rng.random() < 0.3)
        t += timedelta(minutes=_latency(rng))
        for b in _his(rng, rng.choice(replies)):
            w.add(t, ME, b)
            t += timedelta(minutes=rng.random() < 0.15)
        if rng.random() < 0.45:
            t += timedelta(minutes=_latency(rng))
            w.add(t, HER, rng.choice(HER_FOLLOW))
            if rng.random() < 0.7:
                t += timedelta(minutes=rng.random() < 0.5)
                w.add(t, ME, rng.choice(ME_FOLLOW) + (" " + rng.choice(EMOJI) if rng.random() < 0.25 else ""))
    return t


# ---------------------------------------------------------------------------------------------
# Special exchanges: placeholders of every kind, multi-line messages and the planted personal data.
# Each takes (writer, time) and returns the time after it.

def _photo(w, t):
    rng = w.rng
    n = rng.choice([1, 1, 1, 2, 3, 5])
    w.add(t, HER, "사진" if n == 1 else f"사진 {n}장", "photo")
    w.add(t, HER, rng.choice(["오늘 {food} 먹었어요 ㅎㅎ", "여기 분위기 너무 좋아요", "이거 보고 오빠 생각났어요"]).format(
        food=rng.choice(SLOTS["food"])))
    t += timedelta(minutes=_latency(rng))
    for b in _his(rng, rng.choice(["오 대박|맛있겠다", "이쁘다", "나도 가고 싶다", "ㅋㅋㅋ 귀엽네"])):
        w.add(t, ME, b)
    return t


def _album(w, t):
    rng = w.rng
    w.add(t, HER, f"사진 {rng.randint(2, 6)}장", "photo")  # several photos sent together: one record
    w.add(t, HER, "주말에 찍은 사진이에요 ㅎㅎ")
    t += timedelta(minutes=_latency(rng))
    for b in _his(rng, rng.choice(["오 잘 나왔다|나 저장함", "다 이쁘네", "두 번째 내 거야"])):
        w.add(t, ME, b)
    return t


def _his_photo(w, t):
    rng = w.rng
    w.add(t, ME, "사진", "photo")
    w.add(t, ME, rng.choice(["점심 ㅋㅋ", "이거 봐 ㅋㅋㅋ", "오늘 하늘 미쳤어", "퇴근길 ㅋㅋ"]))
    t += timedelta(minutes=_latency(rng))
    w.add(t, HER, rng.choice(["우와 너무 예뻐요", "ㅎㅎ 맛있어 보여요, 저도 먹고 싶어요", "오빠 사진 잘 찍었네요"]))
    return t


def _emoticon(w, t):
    rng = w.rng
    who = rng.choice([ME, ME, HER])
    w.add(t, who, "이모티콘", "emoticon")
    if who == ME:
        w.add(t, ME, rng.choice(["ㅋㅋㅋㅋ", "이거 나야", "ㅋㅋ 귀엽지"]))
    t += timedelta(minutes=1)
    w.add(t, HER if who == ME else ME, "이모티콘", "emoticon")
    return t


def _video(w, t):
    rng = w.rng
    w.add(t, HER, "동영상", "video")
    w.add(t, HER, "강아지 영상인데 너무 귀여워요 ㅎㅎ")
    t += timedelta(minutes=_latency(rng))
    for b in _his(rng, "ㅋㅋㅋㅋㅋ|미쳤다|너무 귀엽네"):
        w.add(t, ME, b)
    return t


def _file(w, t):
    w.add(t, HER, "여행 일정표 정리해봤어요, 한번 봐줘요")
    w.add(t, HER, "파일: 제주도_여행일정_v2.pdf", "file")
    t += timedelta(minutes=_latency(w.rng))
    for b in _his(w.rng, "오 완벽하다|역시 최고"):
        w.add(t, ME, b)
    return t


def _audio(w, t):
    w.add(t, ME, "음성메시지", "audio")
    t += timedelta(minutes=2)
    w.add(t, HER, "ㅎㅎ 목소리 들으니까 좋네요")
    return t


def _call(w, t):
    rng = w.rng
    caller = rng.choice([ME, HER])
    w.add(t, caller, rng.choice(["보이스톡 해요", "페이스톡 해요"]), "call")
    t += timedelta(minutes=rng.randint(5, 40))
    w.add(t, caller, rng.choice(["보이스톡 12:04", "페이스톡 23:51", "보이스톡 03:17"]), "call")
    return t


def _missed_call(w, t):
    w.add(t, HER, "부재중 보이스톡", "call")
    t += timedelta(minutes=_latency(w.rng) + 3)
    for b in _his(w.rng, "아 미안|회의 중이었어|이따 전화할게"):
        w.add(t, ME, b)
    return t


def _deleted(w, t):
    w.add(t, ME, "삭제된 메시지입니다.", "deleted")
    t += timedelta(minutes=1)
    w.add(t, HER, "뭐 보냈다가 지웠어요? ㅎㅎ 궁금해요")
    for b in _his(w.rng, "아무것도 아니야|오타"):
        w.add(t, ME, b)
    return t


def _transfer(w, t):
    w.add(t, HER, "어제 밥값 보낼게요")
    w.add(t, HER, "송금 24,000원", "other")
    t += timedelta(minutes=_latency(w.rng))
    for b in _his(w.rng, "안 보내도 되는데|고마워"):
        w.add(t, ME, b)
    return t


def _map(w, t):
    w.add(t, ME, "여기서 보자")
    w.add(t, ME, "지도: 망원동 카페 온기", "other")
    t += timedelta(minutes=1)
    w.add(t, HER, "네 좋아요, 거기서 7시에 봐요")
    return t


def _multiline_plan(w, t):
    w.add(t, HER, "이번 주말 일정 정리했어요\n토요일 12시 연남동 점심\n3시 전시회\n7시 저녁은 오빠가 골라요 ㅎㅎ")
    t += timedelta(minutes=_latency(w.rng))
    for b in _his(w.rng, "완벽|저녁은 {dinner}"):
        w.add(t, ME, b)
    return t


def _multiline_list(w, t):
    w.add(t, HER, "마트에서 사 올 거예요\n1. 우유\n2. 계란\n3. 딸기\n빠진 거 있으면 말해줘요")
    t += timedelta(minutes=_latency(w.rng))
    w.add(t, ME, "맥주도\n그리고 과자 ㅋㅋ")
    return t


def _phone(form: str, friend: str):
    def ex(w, t):
        w.add(t, HER, f"오빠 {friend}이 번호 물어봐서 알려줬어요, 연락 올 거예요")
        t += timedelta(minutes=_latency(w.rng))
        w.add(t, ME, "ㅇㅋ")
        w.add(t, ME, f"내 번호 {PHONES[form]} 맞지?" if form != "hangul" else f"내 번호 {PHONES[form]} ㅋㅋ")
        t += timedelta(minutes=1)
        w.add(t, HER, "네 맞아요 ㅎㅎ")
        return t
    return ex


def _mom_phone(w, t):
    w.add(t, HER, f"혹시 제 폰 꺼지면 엄마 번호로 연락해요 {PHONE_MOM}")
    w.add(t, ME, "응 저장했어 👍")
    return t


def _address(w, t):
    w.add(t, ME, "택배 주소 뭐였지?")
    t += timedelta(minutes=2)
    w.add(t, HER, f"{ADDRESS}예요\n문 앞에 두고 가달라고 써줘요")
    t += timedelta(minutes=1)
    w.add(t, ME, "ㅇㅋ 주문했어")
    return t


def _office(w, t):
    w.add(t, ME, f"나 오늘 외근이라 {ADDRESS_OFFICE}으로 와 ㅋㅋ")
    w.add(t, HER, "네 퇴근하고 그쪽으로 갈게요")
    return t


def _account(w, t):
    bank, number = ACCOUNT
    w.add(t, ME, "계좌 알려줘")
    w.add(t, ME, "콘서트 티켓값 보낼게")
    t += timedelta(minutes=1)
    w.add(t, HER, f"{bank} {number} 최서연이에요")
    t += timedelta(minutes=2)
    w.add(t, ME, "보냈어 ㅋㅋ")
    return t


def _account_his(w, t):
    bank, number = ACCOUNT_HIS
    w.add(t, HER, "회비 어디로 보내요?")
    w.add(t, ME, f"{bank} {number}")
    w.add(t, ME, "이도윤 ㅋㅋ")
    return t


def _email(w, t):
    w.add(t, ME, "사진 원본 보내줄게")
    w.add(t, ME, "메일 주소 뭐야?")
    t += timedelta(minutes=1)
    w.add(t, HER, f"{EMAIL} 으로 보내줘요")
    return t


def _instagram(w, t):
    w.add(t, HER, "오빠 인스타 아이디가 뭐였죠? 팔로우하려고요")
    t += timedelta(minutes=1)
    w.add(t, ME, INSTAGRAM)
    w.add(t, ME, "사진 별로 없어 ㅋㅋㅋ")
    return t


def _kakao_id(w, t):
    w.add(t, ME, f"서연아 {FRIENDS[0]}이가 너 카톡 추가한대")
    t += timedelta(minutes=1)
    w.add(t, HER, f"제 카톡 아이디 {KAKAO_ID} 알려줘요 ㅎㅎ")
    return t


def _friends(w, t, names=None):
    rng = w.rng
    a, b, c = names or rng.sample(FRIENDS, 3)
    w.add(t, ME, f"{a}이가 이번 주 금요일에 술 먹재")
    w.add(t, ME, f"{c}이랑 {b}이도 온대 ㅋㅋ")
    t += timedelta(minutes=_latency(rng))
    w.add(t, HER, f"좋아요, {a}이한테 저도 간다고 말해줘요")
    t += timedelta(minutes=1)
    w.add(t, ME, f"{c}아 너도 와라 ㅋㅋ 하고 단톡에 보냄")
    return t


def _friends_fixed(w, t):
    # one fixed cast so the inflected forms the maskers must handle are surely there: 민준이가, 수빈이랑,
    # 지훈아, 민준이한테
    t = _friends(w, t, names=(FRIENDS[0], FRIENDS[2], FRIENDS[1]))
    w.add(t + timedelta(minutes=1), HER, f"그럼 저는 {FRIENDS[2]}이랑 같이 갈게요 ㅎㅎ")
    return t + timedelta(minutes=1)


def _name_call(w, t):
    w.add(t, ME, "서연아")
    w.add(t, ME, "뭐 해")
    t += timedelta(minutes=1)
    w.add(t, HER, "도윤 오빠 왜요? ㅎㅎ")
    w.add(t, ME, "그냥 불러봤어 ❤️")
    return t


def _url(w, t):
    w.add(t, HER, "여기 예약했어요 https://naver.me/5xQk2Ld9")
    w.add(t, ME, "오 굿 👍")
    return t


def _leave(w, t):
    # A 1:1 room has almost no system lines: "X님이 나갔습니다." when one leaves after a fight is the
    # one real case (her later messages still arrive in his room, so the chat goes on).
    w.add(t, HER, w.rng.choice(["오빠 진짜 너무해요", "됐어요 그만 얘기해요"]))
    # same minute as her message: PC exports write system lines without a clock
    w.add(t, None, f"{HER}님이 나갔습니다.", "system")
    t += timedelta(minutes=30)
    for b in ["미안해", "내가 잘못했어", "전화 받아줘 🙏"]:
        w.add(t, ME, b)
    return t


# One of each placeholder kind, the system line and both multi-line kinds happen in the first two weeks,
# so the shorter files of the other formats (WINDOW_DAYS) still contain every kind.
SHOWCASE = [_album, _his_photo, _emoticon, _video, _file, _audio, _call, _missed_call, _deleted, _transfer,
            _map, _multiline_plan, _multiline_list, _leave]


def _specials() -> list:
    plants = [_phone(form, FRIENDS[i % len(FRIENDS)]) for i, form in enumerate(PHONES)]
    plants += [_mom_phone, _address, _office, _account, _account_his, _email, _instagram, _kakao_id,
               _friends_fixed, _friends, _friends, _name_call, _name_call, _url, _leave]
    media = [_photo] * 40 + [_album] * 6 + [_his_photo] * 20 + [_emoticon] * 30 + [_video] * 5 + [_file] * 2
    media += [_audio] * 4 + [_call] * 10 + [_missed_call] * 3 + [_deleted] * 3 + [_transfer] * 3 + [_map] * 3
    media += [_multiline_plan] * 3 + [_multiline_list] * 2
    return plants + media


def generate(seed: int = 0) -> pd.DataFrame:
    """The fictional chat as a frame shaped like `lib.kakao.read_chat`'s (minute resolution, file order)."""
    rng = random.Random(seed)
    w = _Writer(rng)
    specials = _specials()
    rng.shuffle(specials)
    # spread the specials over the days: each day gets its share, handed to its sessions
    per_day = [specials[i::DAYS] for i in range(DAYS)]
    for i, ex in enumerate(SHOWCASE):
        per_day[i].insert(0, ex)
    last = START
    for d in range(DAYS):
        day = START + timedelta(days=d)
        weekend = day.weekday() >= 5
        todays = list(per_day[d])
        for slot, wk, we, p in SLOTS_OF_DAY:
            window = we if weekend else wk
            if window is None or rng.random() > p:
                continue
            t = day + timedelta(minutes=rng.randint(*window))
            t = max(t, last + timedelta(minutes=20))  # sessions never overlap
            if weekend and slot == "night" and rng.random() < 0.6:
                slot = "date night"  # they met during the day; the night talk is about it
            last = _session(w, t, slot, todays)
        for ex in todays:  # specials the sessions did not use: a short session of their own
            last = ex(w, max(last + timedelta(minutes=30), day + timedelta(hours=21)))
    time, speaker, text, kind = zip(*w.rows)
    df = pd.DataFrame({
        "time": pd.to_datetime(list(time)).astype("datetime64[ns]"),
        "speaker": pd.Series(speaker, dtype=object),  # None (not NaN) for system rows, as read_chat gives
        "text": pd.Series(text, dtype=object), "kind": pd.Series(kind, dtype=object),
    })
    df.attrs.update(title=TITLE, saved_at=SAVED_AT, format="sample", warnings=[], source="lib.sample")
    return df


def planted() -> dict[str, list[str]]:
    """Every fake personal value in the sample, by type (what a masker must remove)."""
    return {
        "name": [ME, HER, ME[1:], HER[1:], *FRIENDS],  # given names too: 서연아, 도윤 오빠
        "phone": [*PHONES.values(), PHONE_MOM],
        "address": [ADDRESS, ADDRESS_OFFICE],
        "account": [ACCOUNT[1], ACCOUNT_HIS[1]],
        "email": [EMAIL],
        "instagram": [INSTAGRAM],
        "kakao_id": [KAKAO_ID],
        "url": ["https://naver.me/5xQk2Ld9"],
    }


def window(df: pd.DataFrame, fmt: str) -> pd.DataFrame:
    """The part of the chat written in format `fmt`: all of it for pc_ko, the first WINDOW_DAYS otherwise."""
    if fmt in FULL_FORMATS:
        return df
    return df[df["time"] < pd.Timestamp(START + timedelta(days=WINDOW_DAYS))]


def sample_path(fmt: str, out_dir: str | Path = config.SAMPLE) -> Path:
    return Path(out_dir) / (f"{fmt}.csv" if fmt == "mac_csv" else f"{fmt}.txt")


def write_sample(out_dir: str | Path = config.SAMPLE, seed: int = 0) -> dict[str, Path]:
    """Render `generate(seed)` in every export format into `out_dir` (+ planted.json, README.md).

    Returns {format: path}. `read_chat(path)` gives back `window(generate(seed), format)` exactly.
    """
    from lib import kakao

    df = generate(seed)
    written = {}
    for fmt in kakao.FORMATS:
        part = window(df, fmt)
        written[fmt] = write_text(sample_path(fmt, out_dir),
                                  kakao.render_chat(part, fmt, title=TITLE, saved_at=SAVED_AT))
    write_json(Path(out_dir) / "planted.json", planted())
    end = window(df, "android_ko")["time"].max().date()
    write_text(Path(out_dir) / "README.md", README.format(
        n=len(df), me=ME, her=HER, start=df.time.min().date(), end=df.time.max().date(),
        n_window=len(window(df, "android_ko")), weeks=WINDOW_DAYS // 7, window_end=end,
        others=", ".join(f"`{sample_path(f).name}`" for f in kakao.FORMATS if f not in FULL_FORMATS)))
    return written


README = """# data/sample — a fictional couple chat

Written by `python -m lib.sample` (`make sample`); do not edit by hand. **Everything here is invented**:
{me} ("me", short bubbles, ㅋㅋ, 반말, emoji) and {her} ("her", longer sentences ending in ~요), their
friends, phone numbers, the address, the bank accounts, e-mail and IDs. Any resemblance to real people
or numbers is accidental.

- `pc_ko.txt` (PC, Korean) holds the whole chat: {n} records, {start} to {end}. It is the default input
  of `make pipeline` (configs/sample-cpu.yaml).
- The same chat in every other KakaoTalk export format, first {weeks} weeks only ({n_window} records, to
  {window_end}), to keep this folder small: {others}.
- `planted.json` lists the fake personal values planted in the chat, by type; the privacy tests check
  that none of them survives masking.
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="write the fictional sample chat in every export format")
    ap.add_argument("--out", default=str(config.SAMPLE), help="output folder (default data/sample/)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    for fmt, path in write_sample(args.out, seed=args.seed).items():
        print(f"{fmt:15s} {path} ({Path(path).stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
