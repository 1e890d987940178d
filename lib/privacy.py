"""Masks personal data in Korean chat text (names -> keyed pseudonyms, numbers/IDs -> <tokens>). Owns `Anonymizer`,
the names a chat masks (`auto_names`, `names_to_mask`, `chat_key`) and their review (`name_review`, CLI `names`).

The final scan that does not trust this module lives in lib.leakscan.

Names without a list: a word with name syllables is checked by its form and kiwipiepy (surname + given,
particles, titles); any word, also one that is an ordinary word (바다, 별이) or has syllables rare in
names (하엘), is a name when its sentence uses it as one (_by_context: called, titled, 이 + a particle,
or what follows is said only of people: 봄이 생일, 다정이 결근했어, 태이는 잘 지낸대). A name found once
is masked everywhere in the batch.

Speed: `mask_many` masks each unique string once (chats repeat a lot), skips the ~90% of messages
that carry no digit, '@', URL, known name or name-like word (one regex pass over a joined block),
looks at the other words only in messages with a context cue (_ctx_hinted), and asks kiwipiepy only
about a word (cached per word) or a sentence (cached per window) it has not seen before.
"""
from __future__ import annotations

import bisect
import gc
import hashlib
import hmac
import re
from collections import Counter
from functools import lru_cache
from itertools import accumulate
from typing import Iterable, NamedTuple

from lib import config, fileio, kakao

TOKENS = {t: f"<{t}>" for t in ("전화번호", "주민번호", "외국인번호", "카드번호", "계좌", "여권번호", "운전면허",
                               "차량번호", "이메일", "아이디", "주소", "IP", "URL", "생년월일")}
NAME = "이름"  # the type counted for pseudonymised names
DEFAULT_KEY = "malbeot"  # deterministic default; pass your own secret key so pseudonyms can't be reversed

# ---------------------------------------------------------------------------------------------
# Regexes for numbers and IDs. One alternation, ordered: earlier alternatives win at a position.
# D = a digit written as a numeral, full-width digit or Hangul numeral (공일공-일이삼사-...).
_HD = "공영빵일이삼사오육륙칠팔구"
D = rf"[0-9０-９{_HD}]"
SEP = r"[ \t\-.·)(/~ㅡ_]{0,3}"  # what people put between digit groups
NB = r"(?<![0-9A-Za-z])"  # number must not continue a longer alphanumeric run
NA = r"(?![0-9])"
BANKS = ("국민|KB|kb|신한|우리|하나|농협|NH|nh|기업|IBK|ibk|카카오뱅크|카카오|카뱅|토스뱅크|토스|케이뱅크|케뱅|SC제일|"
         "제일|씨티|새마을금고|새마을|우체국|수협|신협|부산|대구|경남|광주|전북|제주|산업|KDB|저축")
_PLATE_H = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주아바사자배하허호육해공국합"
_REGION = "서울|부산|대구|인천|광주|대전|울산|세종|경기|강원|충북|충남|전북|전남|경북|경남|제주"
_URL_TLD = r"(?:com|net|org|kr|co\.kr|me|io|ly|gl|to|app|dev|site|link|tv|gg|be|us|co|ai|xyz|shop|page|so)"

# what people put between spoken phone groups: "010 다음에 1234 그다음 5678", "010에 1234에 5678"
_GLUE = r"\s*(?:[,/·~\-.]|그\s?다음(?:에|은)?|다음(?:에|은)?|뒤에?|뒤는|마지막(?:은|에|으로)?|끝(?:은|에)?|그리고|하고|이랑|랑|이고|에)\s*|\s+"
# IPv6: eight groups, or fewer around one "::" (not a clock 12:30:45, which has neither)
_H4 = "[0-9A-Fa-f]{1,4}"
_IPV6 = (rf"(?<![\w:.])(?:(?:{_H4}:){{7}}{_H4}|(?=[0-9A-Fa-f:]*[0-9A-Fa-f]{{3}})(?:{_H4}(?::{_H4}){{0,5}})?::"
         rf"(?:{_H4}(?::{_H4}){{0,5}})?)(?![\w:])")

_NUM_PARTS = [
    ("URL", rf"(?:https?://|www\.)[^\s<>\"'\x00]+|(?<![A-Za-z0-9_@.])[A-Za-z0-9][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*\.{_URL_TLD}/[^\s<>\"'\x00]*"),
    ("이메일", r"[A-Za-z0-9][A-Za-z0-9._%+\-]*\s?(?:@|＠|골뱅이|\(at\)|\[at\])\s?[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"),
    ("IP", rf"{NB}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){{3}}(?::\d{{2,5}})?{NA}|{_IPV6}"),
    ("주민번호", rf"(?:(?<=앞자리)|(?<=앞자리 )|(?<=앞자리: )|(?<=앞자리는 ))\d{{6}}{NA}"
                 rf"|(?:(?<=뒷자리)|(?<=뒷자리 )|(?<=뒷번호 )|(?<=뒷자리: )|(?<=뒷자리는 ))[1-4]\d{{6}}{NA}|{NB}\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\s?[-–]?\s?[1-4](?:\d{{6}}|\*{{6}}|\d\*{{5}}){NA}"),
    ("외국인번호", rf"{NB}\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\s?[-–]?\s?[5-8](?:\d{{6}}|\*{{6}}|\d\*{{5}}){NA}"),
    ("운전면허", rf"(?:(?:{_REGION})\s?|{NB}\d{{2}}[-\s])\d{{2}}[-\s]?\d{{6}}[-\s]?\d{{2}}{NA}"
                 rf"|(?:(?<=면허)|(?<=면허 )|(?<=면허번호 )|(?<=면허번호: ))\d{{2}}-\d{{6}}-\d{{2}}{NA}"),
    ("카드번호", rf"{NB}\d{{4}}(?P<cs>[- .]?)\d{{4}}(?P=cs)\d{{4}}(?P=cs)\d{{4}}{NA}|{NB}3[47]\d{{2}}[- ]?\d{{6}}[- ]?\d{{5}}{NA}"),
    # Arabic and Hangul numerals are not mixed inside one number (else "4321 이에요" eats the 이).
    ("전화번호", rf"(?:\+\s?82[\s\-.)]*\(?0?\)?\s?|{NB}82[\-\s.]|{NB}0)(?:1[016789]|2|[3-6][1-5]|70|50[2-8]?)"
                 rf"{SEP}(?:\d{SEP}){{2,3}}\d{SEP}(?:\d{SEP}){{3}}\d{NA}"
                 rf"|[공영빵]{SEP}(?:일{SEP}[공영빵일육칠팔구]|이|[삼사오육]{SEP}[일이삼사오]|칠{SEP}공){SEP}(?:에\s?)?"
                 rf"(?:[{_HD}]{SEP}){{2,3}}[{_HD}]{SEP}(?:[{_HD}]{SEP}){{3}}[{_HD}](?![0-9{_HD}])"
                 rf"|{NB}01[016789]{SEP}[{_HD}]{{3,4}}{SEP}[{_HD}]{{4}}(?![0-9{_HD}])"  # 010 일이삼사 오육칠팔
                 rf"|{NB}(?:01[016789]|[공영]일[공영])(?:{_GLUE}){{1,3}}(?:\d{{3,4}}|[{_HD}]{{3,4}})(?:{_GLUE}){{1,3}}"
                 rf"(?:\d{{4}}|[{_HD}]{{4}})(?![0-9]|[{_HD}](?![야요고랑라었]))"),  # 오육칠팔이야
    ("여권번호", r"(?<![A-Za-z0-9])[MSRODmsrod]\d{8}(?![0-9])|(?<![A-Za-z0-9])[MSRODmsrod]\d{3}[A-Za-z]\d{4}(?![0-9])"),
    ("차량번호", rf"(?:(?:{_REGION})\s?)?{NB}\d{{2,3}}\s?[{_PLATE_H}]\s?\d{{4}}{NA}"),
    # Accounts: a bank name (or 계좌) then digits, or any long hyphenated run the rules above left.
    ("계좌", rf"(?:(?:{BANKS})(?:\s?은행)?(?:\s?계좌(?:번호)?)?[\s:은는이가]*|계좌(?:번호)?[\s:은는이가]*)"
              rf"(?!1[5-9]\d\d-?\d{{4}}(?![\d\-]))\d[\d\- ]{{7,20}}\d"  # not the bank's 1588-5000 line
              rf"|{NB}(?=(?:\d-?){{10}})\d{{2,6}}-\d{{2,6}}-\d{{2,7}}(?:-\d{{1,3}})?{NA}"
              # a bare digit run, unless it is an order/tracking number or a toll-free 080 line
              rf"|(?<!주문번호 )(?<!주문번호: )(?<!주문번호 : )(?<!송장번호 )(?<!거부 )(?<!승인번호 ){NB}(?!080)\d{{10,16}}{NA}(?!\.(?:jpe?g|png|gif|mp4|pdf))"),  # not a file name
    ("생년월일", r"(?:생년월일|생년|생일|출생|태어난\s?날|DOB|dob)[\s:은는이가]*(?:(?:19|20)?\d{2}\s?[년./\-]\s?)?\d{1,2}\s?[월./\-/]\s?\d{1,2}일?"
               r"|(?:19|20)?\d{2}\s?[년./\-]\s?\d{1,2}\s?[월./\-]\s?\d{1,2}일?\s?생(?!각|활|산|선|기|겼|긴|길|존|명)"
               r"|(?:생년월일|생일|DOB|dob)[\s:은는이가]*(?:\d{6,8}|(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(?![0-9])"),
    # an explicit 아이디/ID cue takes any handle; a platform name alone only one with a digit, _ or .
    ("아이디", r"(?:아이디|아뒤|아디|(?<![A-Za-z])(?:ID|Id|id)(?![A-Za-z])|닉네임|(?<![가-힣])닉)[\s:은는이가를]*(?:[가-힣]{1,6}\s){0,2}"
              r"(?P<handle>@?(?=[A-Za-z0-9._]*[A-Za-z])(?=[A-Za-z0-9._]*[0-9._]|[A-Za-z]{5})"
              r"[A-Za-z0-9][A-Za-z0-9._]{2,29}(?:#\d{4})?)(?![A-Za-z0-9._@])"  # (#2231: a Discord tag)
              r"|(?:카톡|카카오톡|인스타그램|인스타|insta|instagram|트위터|틱톡|페북|페이스북|디코|디스코드|텔레그램|텔레|"
              r"깃허브|github|스냅챗|계정)\s?(?:계정)?[\s:은는이가를]*"
              r"(?P<handle2>@?(?=[A-Za-z0-9._\-]*[A-Za-z])(?=[A-Za-z0-9._\-]*[0-9._])[A-Za-z0-9][A-Za-z0-9._\-]{2,29})"
              r"(?![A-Za-z0-9._@\-])"
              r"|(?<![\w.@])@[A-Za-z0-9_][A-Za-z0-9._]{1,29}(?![\w@])"),
]
# Addresses: admin prefix (optional), then a road address or a lot number, then building/동/호.
_ADMIN = rf"(?:(?:[가-힣]{{1,6}}(?:특별시|광역시|특별자치시|특별자치도|시|도|군|구|읍|면)|{_REGION}|경기도|강원도|제주도)\s?)"
# a road name starts a word; its number isn't a time, count or the "N가" of a district (종로 3가)
# a road name starts a word and isn't an adverb or "by car/card" (따로 2인분, 카드로 2만); the house number
# ends the word or takes a particle, so counts (5만원, 3주, 2인분) and the "N가" of a district don't pass
_NOT_ROAD = "새로|따로|진짜로|정말로|그대로|제대로|최고로|차로|버스로|택시로|기차로|카드로|주로|서로|별로|실제로|절대로|뒤로|위로|대로"
_ROAD = (rf"(?<![가-힣0-9])(?!(?:{_NOT_ROAD})\s?\d)[가-힣][가-힣0-9]{{0,10}}(?<!으)(?:대로|로|길)\s?"
         r"(?:[1-9]\d*\s?번?길(?:\s?[1-9]\d*(?:-\d+)?)?|[1-9]\d*(?:-\d+)?)(?![0-9])"
         r"(?=$|[\s,.)(~!?\x00]|(?:에|으로|로|이야|야|이고|이에요|예요|이요|번지|쪽|근처|앞|이라|인데|인가|인지|요|임|입니다|까지|이니까))"
         r"(?:\s?번지)?")
_LOT = r"(?<=[동리가] )\d{1,4}(?:-\d{1,4}(?:\s?번지)?|\s?번지)(?![A-Za-z%])|(?<=[동리가])\d{1,4}(?:-\d{1,4}(?:\s?번지)?|\s?번지)(?![A-Za-z%])"
_BLDG = r"(?<![가-힣A-Za-z0-9])[가-힣A-Za-z0-9]{1,12}(?:아파트|빌라|오피스텔|맨션|타워|빌딩|하이츠|캐슬|자이|푸르지오|래미안|힐스테이트|아이파크)"
_UNIT = (r"\d{1,4}\s?동\s?\d{1,4}\s?호|\d{1,4}-\d{1,4}\s?호|\d{2,4}\s?호(?![가-힣])"
         r"|(?:[가-힣A-Za-z]{1,10}\s?)?(?:지하\s?)?\d{1,3}\s?층(?:\s?\d{1,4}\s?호)?")
_ADDR = (rf"(?:{_ROAD}|{_LOT})(?:,?\s?{_BLDG})?(?:,?\s?(?:{_UNIT}))?"
         rf"|(?:{_BLDG}\s?)(?:{_UNIT})|(?:(?<=원룸 )|(?<=투룸 )|(?<=빌라 )|(?<=오피스텔 )|(?<=기숙사 )|(?<=집 ))\d{{2,4}}\s?호(?![가-힣])|(?<![0-9])\d{{1,4}}\s?동\s?\d{{1,4}}\s?호")
_NUM_PARTS.insert(3, ("주소", _ADDR))

# Identity-like text (a form, a passport, a booking): a full date there is a birth date.
_ID_CUE = re.compile(r"생년|생일|출생|여권|[Pp]assport|PASSPORT|성명|이름|예약자|신분|주민|DOB|[Bb]irth|영문|탑승|승객|면허"
                     r"|<(?:여권번호|주민번호|외국인번호|운전면허)>|(?<![A-Za-z])[A-Z]{2,} [A-Z]{2,}(?![A-Za-z])")
_BARE_DATE = re.compile(r"(?<![0-9.])(?:19[3-9]\d|20[01]\d)(?:[./\-]\s?(?:0?[1-9]|1[0-2])[./\-]\s?(?:0?[1-9]|[12]\d|3[01])"
                        r"|(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(?![0-9])"
                        r"|(?<![0-9.])\d{2}\.(?:0[1-9]|1[0-2])\.(?:0[1-9]|[12]\d|3[01])(?![0-9.])")
NUM_RE = re.compile("|".join(f"(?P<g{i}>{p})" for i, (_, p) in enumerate(_NUM_PARTS)))
_GROUP_TYPE = {f"g{i}": t for i, (t, _) in enumerate(_NUM_PARTS)}
# Cheap prefilter for the number/ID pass.
NUM_HINT = re.compile(rf"[0-9０-９@＠]|골뱅이|www\.|://|\.{_URL_TLD}\b|[공영빵]\s?[일]\s?[공영빵일육칠팔구]"
                      r"|아이디|아뒤|아디|[Ii][Dd]|카톡|카카오톡|인스타|insta|트위터|틱톡|페북|페이스북|디코|디스코드|텔레|라인|깃허브|github|계정|닉")

# ---------------------------------------------------------------------------------------------
# Names.
SURNAMES = ("김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 류 유 전 홍 고 문 양 손 배 백 허 남 심 노 하 곽 성 차 주 우 "
            "구 민 진 나 지 엄 채 원 천 방 공 현 함 변 염 여 추 도 소 석 선 설 마 길 연 위 표 명 기 반 왕 금 옥 육 인 맹 제 모 탁 "
            "국 어 은 편 용 예 경 봉 사 부 피 빈 감 온 계 단 좌 갈 당 돈 범 승 시 애 옹 요 종 초 판 평 포 학 형 호 화 "
            "환 견 간 탄 대 독 뇌 "
            "황보 남궁 제갈 선우 독고 사공 서문 동방 어금 망절 강전 황목 소봉 장곡").split()
# Syllables found in Korean given names; a word made only of these may be a name.
NAME_SYL = set(
    "가각간감강개건걸검겸경계고곤공관광교구국군권규균근금기길나난남내노누늘다단담당대덕도돈동두라란람래량려련렬령로록뢰루룡류륜률리린림"
    "마만명모목무문미민배백범법벽별병보복본봉부분비빈빛산삼상새서석선설섭성세소솔송수숙순술숭슬승시식신실심아안애야양어언엄여연열염엽영"
    "예오옥온완왕요용우욱운웅원월위유윤율융은을음의이익인일임자장재전정제조종주준중지직진찬창채천철청초총춘충치탁태택판평표풍필하학한"
    "함해향허헌혁현협형혜호홍화환황효후훈휘희흠흥힘"
    "결랑름봄샘울겨롱꽃잎훤휴솜")  # pure-Korean names: 한결, 하랑, 아름, 한울, 초롱
_TITLE = "씨|님|쌤|선배|후배|언니|오빠|누나|형|선생님|교수님|팀장님|대리님|과장님|부장님|사장님|작가님|이모|삼촌|아저씨|아줌마"
_TITLE_SET = set(_TITLE.split("|"))
# 이 + ending that is the copula after any noun (천안이라고, 다행이야): not a person-only cue
_COPULA = {"이라고", "이래", "이야", "이지", "이였", "이었", "이네"}
# the copula after a name ("it's Sua", "was it Hyewon"): follows any noun, so kiwi must read a name
_COPULA_CUE = {"인데", "인데요", "이던가", "던가", "인가", "인가요", "이었나", "였나", "인지", "일걸", "이잖아", "잖아",
               "이라고", "라고", "이래", "래", "이야", "이에요", "예요", "이고", "이었", "였", "이지", "이랬", "랬"}
# Strong cues after a stem: the hypocoristic 이 + particle (batchim names), vocative, titles.
_I_PART = "형|누나|언니|오빠|가|는|랑|한테|하고|도|를|의|네|에게|께|야|랑은|한테서|네집|만|까지|처럼|보다|라고|래|였|었|지"
_WEAK = "한테|에게|께|랑|이랑|하고|가|는|도|를|을|은|이|의|와|과|만|까지|한테서|네|꺼|거|부터|보고|더러"
# a particle and a topic/also/only marker after it: 랑은, 한테도, 하고만
_WEAK += "|" + "|".join(p + q for p in "한테 에게 랑 이랑 하고 한테서 까지 보다".split() for q in ("은", "는", "도", "만"))
_STOP = set(BANKS.split("|")) | set("""자기 여보 애기 아가 공주 왕자 베이비 친구 엄마 아빠 언니 오빠 누나 동생 형님 아들 딸 남편 아내 와이프 여친 남친 우리 저희
너희 걔네 얘네 쟤네 사람 선생 사장 부장 과장 대리 팀장 교수 의사 기사 작가 고객 손님 주인 가족 이모 삼촌 고모 할머니 할아버지 아저씨
아줌마 강아지 고양이 하늘 사랑 가을 여름 봄날 겨울 이사 미래 희망 보람 소원 은혜 진주 나라 세상 하루 우주 별님 해님 달님 인간 천사
바다 인생 조국 냥이 아기 영어 한국어 중국어 일본어 조선 기아 한강 무지 라임 로직 화요 보일 신세계 삼성 현대 카카오
네이버 구글 애플 쿠팡 배민 스벅 이마트 다이소 롯데 신라 연세 고려 서강 한양 중앙 경희 건국 동국 홍익 숭실 유튜브 넷플 동네 학교
담주 담달 군필 전필 국대 만전 존잼 노잼 꿀잼 핵잼 레알 실화 인정 솔직
바보 멍청 귀염 이쁜이 예쁜이 자식 새끼 녀석 놈 사랑이 여러분 모두 다들 니들 자네 당신 본인 상대 회사 학교 병원 경찰""".split())
# City/district/neighbourhood names kiwi tags NNP like people; they are not personal data.
_PLACES = set("""서울 부산 대구 인천 광주 대전 울산 세종 제주 수원 성남 분당 판교 일산 고양 용인 안양 부천 의정부 김포 파주 춘천
강릉 속초 여수 전주 경주 포항 창원 천안 청주 목포 순천 성수 홍대 강남 신촌 이태원 합정 망원 연남 을지로 종로 명동 잠실 건대
압구정 여의도 용산 성북 노원 목동 신림 사당 왕십리 혜화 삼성 역삼 선릉 교대 서초 방배 동대문 남산 북촌 익선 한남 청담 문래
영등포 구로 상암 마곡 송도 해운대 서면 광안리 남포 동성로 수성 봉천 신사 논현 양재 도곡 대치 개포 상수 연희 서촌 성신 안암
회기 이문 석계 공덕 마포 서대문 은평 강서 강동 송파 관악 동작 금천 양천 중랑 도봉 강북 광진 성동 하남 구리 남양주 동탄 광교
미국 일본 중국 한국 대만 태국 베트남 유럽 영국 프랑스 독일 호주 캐나다 뉴욕 도쿄 오사카 후쿠오카 파리 런던 하와이 괌 발리 인도
홍콩 싱가폴 필리핀 몽골 러시아 이태리 스페인 교토 삿포로 상해 북경 방콕 다낭 세부 사이판
양주 가평 안산 시흥 군산 부평 당산 단양 양양 고덕 노량진 천안 부천 평택 경상 전라 충청 동해 서해 남해 홍도 한라 설악 지리
화성 오산 이천 여주 광명 군포 의왕 과천 안성 포천 연천 양평 동두천 구미 김천 안동 영주 상주 문경 경산 영천 청도 거제 통영 사천
밀양 양산 김해 진주 마산 진해 익산 정읍 남원 김제 군산 광양 나주 보성 해남 완도 진도 제천 충주 음성 진천 보령 아산 서산 당진
공주 논산 계룡 태안 홍성 원주 동해 태백 삼척 평창 정선 횡성 홍천 인제 고성 철원 화천 양구 서귀포 애월 성산 중문 함덕 협재
종각 시청 광화문 서울역 용산 이촌 옥수 금호 약수 신당 청량리 회기 외대 석관 태릉 상봉 면목 군자 아차산 광나루 천호 길동 둔촌
가락 문정 복정 수서 일원 대청 학여울 매봉 도곡 양재 과천 사당 이수 총신 동작 흑석 노들 대방 신길 여의나루 마포 애오개 충정로
아현 이대 신촌 홍제 녹번 불광 연신내 구파발 수색 디지털 가좌 망원 상수 광흥창 대흥 효창 삼각지 녹사평 한강진 버티고개 금남
화정 일산 대화 주엽 정발산 마두 백석 원흥 삼송 지축 행신 능곡 김포 검단 계양 작전 송내 중동 상동 부개 주안 동암 제물포 월미""".split())
_PLACES |= set(_REGION.split("|"))
# ordinary nouns that take 님/쌤/씨 themselves (부모님, 선배님, 기사님): not names before a title
_HONORIFIC = set("""부모 선배 후배 대표 사장 고객 기사 직원 교수 감독 작가 원장 회장 부장 과장 차장 팀장 실장 대리 주임 사원 이사
상무 전무 선생 목사 신부 판사 검사 의사 간호 손님 주인 형님 누님 동생 아버 어머 고모 이모 삼촌 예수 천사 조상 고수 아우 학우
회원 관리 운영 담당 반장 총무 회계 점장 사부 도사 장인 달인 선수 코치 국장 위원 의원 총장 학장 사모 기장 승무 배우 가수 모델
주치 소장 지점 본부 실무 주무 조교 강사 박사 석사 학생 수강 교장 교감 경찰 소방 군인 병장 상병 일병 중위 대위 소령 중령 대령
해님 달님 별님 임금 왕자 공주 마마 각하 작은 큰 영감 담임 주님 도련 아씨 예수 부처 스님 하느""".split())
# stop words that never become a hypocoristic name (동생이가 is dialect, not a person called 동생)
_NO_PET_NAME = set("동생 사람 아들 남편 가족 인간 친구 선생 사장 고객 손님 주인 회사 학교 병원 경찰 우리 저희 상대 본인 당신 "
                   "형님 자식 인생 세상 하루 미래".split())
# a 3-syllable string kiwi doesn't know, ending so, is slang or a verb form (노어이, 조오치, 인나야, 서보자),
# not a bare full name
_NOT_NAME_END = set("이 야 여 요 자 누 임 치 고 개 당 부 장 옥 일 네 꽃 충")
# what is said of a person, not of a thing, close after a rarer word that is also a name (미소가 오늘 생일이야;
# not 시간이 되면 연락할게: 시간 is too common a word, kiwi scores it above -17.5; not 아재가 통화함 or 야근은
# 안하고 지내지: calling and living are said of anyone, a birthday or a boyfriend of a person)
_PERSON_PRED = re.compile(r"생일|보고\s?싶|결혼|졸업|남친|여친|남자\s?친구|여자\s?친구|사귀|그러는데|"
                          r"(?:\d+|한|두|세|네|다섯|여섯|일곱|여덟|아홉|열|스물|서른)\s?살")
_PLAIN = {"이", "가", "은", "는", "도", "랑", "이랑", "하고", "한테"}
_SENTENCE_GOES_ON = re.compile(r" +(?!(?:쯤|때|거|것|수|줄|만큼|정도|중|뿐)(?![가-힣]))[가-힣A-Za-z]")
_PLACE_END = tuple("역 구 동 시 군 읍 면 로 길 점 관 항".split())
_PLACE_END3 = _PLACE_END + tuple("도 대 산 강 천 교 섬 사".split())  # 제주도, 전남대: 3-syllable words


def _trie_pattern(words) -> str:
    """One regex alternative for many literal words, factored by prefix (민(?:준|지)...): sre then
    branches on each character instead of trying hundreds of alternatives at every position."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = True

    def emit(node) -> str:
        alts = [re.escape(ch) + emit(sub) for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body
    return emit(trie)


def _has_batchim(syl: str) -> bool:
    code = ord(syl) - 0xAC00
    return 0 <= code < 11172 and code % 28 != 0


# Fake given names, split by whether the last syllable has a final consonant. Deliberately the less
# common (but real) names, so a pseudonym rarely equals a real friend's name in the same chat.
FAKE_GIVEN = {
    True: ("윤슬 다온 라온 시온 하람 가람 로운 예담 도담 해솔 한울 새롬 다솜 이솔 채솔 서율 태율 단율 하율 은율 도균 태경 "
           "승완 세훈 진혁 태성 한별 새별 은별 효원 선율 지완 소민 채련 혜정 윤경 미령 서림 아림 가온 세온 연경 희원 은결 "
           "다결 지율 하민 라윤 다솔 다율 다윤 라현 하솔 하겸 새솔 새율 새린 예솔 예율 예겸 예빈 도율 도겸 도린 시율 채율 "
           "채윤 채현 채빈 해율 해린 해윤 가율 가윤 가현 나율 나윤 나린 로빈 세린 세윤 소현 소빈 아윤 아현 여린 단율 태린 "
           "서린 유솔 유빈 유린 은솔 은빈 지온 윤솔 주빈 주안").split(),
    False: ("나래 소이 이레 하로 루아 라희 세아 가호 태오 도아 해나 아로 라미 채이 수호 재오 이루 시호 도이 재하 유하 채요 "
            "세나 이안 다미 지오 연아 해주 소예 아진 라니 은새 다오 라루 새아 새하 예주 도희 도하 시아 시하 채희 가희 나오 "
            "나희 로아 로하 세하 아라 아루 온유 태하 서하 유라 주아 윤하").split(),
}
FAKE_GIVEN = {b: tuple(n for n in dict.fromkeys(pool) if len(n) == 2 and re.fullmatch(r"[가-힣]+", n)
                       and _has_batchim(n[-1]) == b) for b, pool in FAKE_GIVEN.items()}
# Frequent given names across generations (helps where kiwi doesn't know a name).
COMMON_GIVEN = set("""민준 서준 도윤 예준 시우 하준 주원 지호 지후 준우 준서 건우 도현 현우 지훈 우진 선우 서진 민재 현준 연우 유준
정우 승우 승현 시윤 준혁 은우 지환 승민 지우 유찬 윤우 민성 준영 시후 진우 수호 재윤 시현 동현 태윤 민우 재원 한결 은찬 윤호
서연 서윤 지우 서현 민서 하은 하윤 윤서 지유 지민 채원 지아 수아 다은 예은 은서 수빈 지안 소율 예린 하린 수민 시은 유나 예서 채은
다인 서아 아린 윤아 가은 연우 소윤 예원 지윤 서영 유진 수연 은지 혜린 민지 수진 지현 은비 나연 다현 혜진 소연 미경 은영 지영 현정
정민 민수 영수 영호 영철 철수 영희 순자 영자 정숙 미숙 경숙 명숙 상철 상훈 성호 성민 성진 성훈 재현 재훈 재민 재석 동훈 동욱
태훈 태민 태현 태호 현수 현석 형준 경민 경수 진호 진수 진영 준호 준기 민호 민혁 민석 민규 승훈 승기 승준 종현 종민 창민 기범
병철 광수 대호 용준 용호 정훈 정호 혁준 석진 윤호 보검 은혁 희철 진혁 상민 상우 동민 도경 보영 소희 슬기 혜원 혜수
 수현 지혜 지은 은정 은주 은희 미진 미영 미란 선영 선희 경희 경아 주희 가영 나영 다영 세영 소영 아영 예지
유리 유나 윤정 윤희 정아 정은 지연 채린 한솔 현아 혜정 효진 효정 희정 수지 다희 연희 채영 서희 예진 세은""".split())
FAKE_GIVEN = {b: tuple(n for n in pool if n not in COMMON_GIVEN) for b, pool in FAKE_GIVEN.items()}
FAKE_SURNAMES = "김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 전 홍".split()
FAKE_LATIN = "Alex Sam Jamie Robin Casey Jordan Taylor Morgan Riley Avery Quinn Drew".split()


@lru_cache(maxsize=1)
def _kiwi():
    """kiwipiepy is loaded once per process, lazily: most runs never need it."""
    from kiwipiepy import Kiwi
    return Kiwi(num_workers=0)


def kiwi():
    """The process's one Kiwi, for lib.leakscan.use_kiwi (a second one costs ~3 s and ~300 MB)."""
    return _kiwi()


@lru_cache(maxsize=200_000)
def _is_common(word: str) -> bool:
    """kiwi knows `word` as an ordinary word (NNG, adverb, verb phrase...), not a proper noun."""
    best, score = _kiwi().analyze(word, top_n=1)[0]
    if any(getattr(t, "oov", False) for t in best):  # kiwi guessed: not in its dictionary
        return False
    if len(best) == 1 and best[0].form == word:
        if word in COMMON_GIVEN and score < -20:  # a rare word that is mostly a name (보검, 승기)
            return False
        return best[0].tag != "NNP"  # a dictionary word (구문, 동원); NNP = a name kiwi knows
    if any(t.tag == "NNP" for t in best):
        return False
    # split into pieces (하+은, 주+ㄴ+영): an ordinary phrase only if kiwi is confident
    return score > -19.5


@lru_cache(maxsize=200_000)
def _is_word(word: str) -> bool:
    """kiwi reads `word` as one ordinary morpheme (고양이, 먹이), not stem + particle."""
    best, _ = _kiwi().analyze(word, top_n=1)[0]
    return (len(best) == 1 and best[0].form == word and best[0].tag != "NNP"
            and not getattr(best[0], "oov", False))


@lru_cache(maxsize=200_000)
def _kiwi_nnp(token: str, stem: str, min_score: float | None = None) -> bool:
    """kiwi tags `stem` (or stem+이) inside `token` as a proper noun it knows well (see _known_given);
    min_score=-inf accepts any proper noun (after a title, where the cue already says person)."""
    floor = _NNP_SCORE if min_score is None else min_score
    return any(t.tag == "NNP" and t.form in (stem, stem + "이") and t.score >= floor for t in _kiwi().tokenize(token))


def _namey(given: str) -> bool:
    return all(ch in NAME_SYL for ch in given)


def _split_surname(name: str) -> tuple[str, str]:
    if len(name) == 4 and name[:2] in SURNAMES:
        return name[:2], name[2:]
    if len(name) == 3 and name[0] in SURNAMES:
        return name[0], name[1:]
    return "", name


# Unknown-name candidates: an optional surname, two name syllables, then a cue or a particle.
_SYL = "".join(sorted(NAME_SYL))
_SUR1 = "".join(sorted(s for s in SURNAMES if len(s) == 1))
_SUR2 = "|".join(s for s in SURNAMES if len(s) == 2)
# what belongs to a person, after a name: 최한결 생일, 이하늘 결혼식, 옥채원 번호
_OWNED = "생일|생파|결혼식|결혼|번호|연락처|폰번호|카톡|인스타|부모님|남친|여친|남자친구|여자친구|와이프|남편"
# (a word ending in 님 after a full name is a title too: 나은혜 간호사님, 김철수 기사님)
_SPACED_TITLE = "선배|후배|대리|과장|차장|부장|팀장|실장|사장|선생님|선생|교수님|씨|님|쌤|언니|오빠|누나|형|아저씨|아줌마|이모|삼촌|[가-힣]{1,4}님"
# any other Hangul word: a name only if its sentence says so (see _by_context and _ctx_hinted)
CTX_RE = re.compile(r"(?<![가-힣<0-9])(?P<cx>[가-힣]{2,6})(?![가-힣])")
CAND_RE = re.compile(rf"(?<![가-힣<0-9])(?:{_SUR2}|[{_SUR1}])?[{_SYL}]{{2}}[가-힣]{{0,6}}(?![가-힣])"
                     rf"(?=(?P<ttl> (?:{_SPACED_TITLE})|(?P<own> (?:{_OWNED}))(?![가-힣])))?")
# Form-like text names whoever follows the label: 성명: 박서윤, 예금주 문하람으로, 받는분 성함 탁재원
_FORM_CUE = (r"성명|이름|예금주|받는\s?분|받는\s?사람|성함|수령인|신청자|예약자|보내는\s?분|입금자명?|명의|주문자|명단|"
             r"고객명|담당자|작성자|[Nn]ame|NAME")
FORM_RE = re.compile(rf"(?P<fc>(?:(?:{_FORM_CUE})(?:은|는|이|가|을|를)?\s?[:：]?\s?)+)(?P<fn>[가-힣]{{2,4}}?)"
                     r"(?=$|[^가-힣]|으로|로|이고|이에요|예요|입니다|이요|님|씨|요)")
# Latin script: up to three capitalised words (HONG GILDONG, John Carter, Daniel); decided in context.
LATIN_RE = re.compile(r"(?P<lat>(?<![A-Za-z0-9@._\-/])(?:[A-Z][a-z]+|[A-Z]{2,})(?:[ \-](?:[A-Z][a-z]+|[A-Z]{2,})){0,2}"
                      r"(?![A-Za-z0-9@._]))")
ROMAN_SURNAMES = set("""KIM LEE YI RHEE PARK BAK CHOI CHOE JUNG JEONG CHUNG KANG CHO JO YOON YUN JANG CHANG LIM IM HAN OH
SEO SUH SHIN SIN KWON HWANG AHN AN SONG YOO YU RYU JEON JUN CHUN HONG KO GO MOON MUN YANG SON BAE BAEK PAEK HUH HEO NAM
SHIM SIM NOH ROH HA KWAK SUNG SEONG CHA JOO JU WOO KOO KU MIN JIN NA JI UM EOM CHAE WON CHEON BANG GONG KONG HYUN HYEON
HAM BYUN BYEON YEOM YEO CHOO CHU DO SO SEOK SUK SEON SUN SEOL SUL MA GIL YEON WI PYO MYUNG MYEONG KI GI BAN WANG GEUM KEUM
OK YOOK YUK IN MAENG JE MO TAK GUK KUK EO EUN PYEON YONG YE GYEONG KYUNG BONG SA BU PI BIN GAM ON GYE DAN TAE
NAMGOONG NAMGUNG HWANGBO JEGAL SEONWOO SUNWOO DOKGO SAGONG""".split())
# one romanized Korean syllable (Revised Romanization and the usual variants): gil, dong, seo, yeon, hoon
_ROMAN_SYL = (r"(?:kk|tt|pp|ss|jj|ch|sh|g|k|n|d|t|r|l|m|b|p|s|j|h|y|w)?"
              r"(?:yae|yeo|wae|ae|ya|eo|ye|wa|oe|yo|oo|wo|we|wi|yu|eu|ui|ee|ou|a|e|o|u|i)(?:ng|n|k|l|m|p|t)?")
_ROMAN_GIVEN = re.compile(rf"(?:{_ROMAN_SYL}){{1,3}}")
# after a Latin word: what only follows a person (Daniel이랑, Sarah 생일, John Carter 라는 사람한테서)
_LATIN_PERSON_AFTER = re.compile(r"\s?(?:이랑|랑|한테|에게|께|씨|님|아|야)(?![가-힣])|\s?(?:한테서|에게서|이랑|랑|씨|님|이가|이는)"
                                 r"|\s(?:씨|님|교수님|선생님|쌤|선배|형|누나|언니|오빠|생일|생파|결혼|(?:이)?라는\s?(?:사람|분|애|친구))")


# a single capitalised word, then a verb said of people (Jenny가 그러는데, David 만나서)
_LATIN_PERSON_VERB = re.compile(r"(?:이|가|은|는|도)?\s(?:그러|그랬|말하|말했|만나|만났|만난|사귀|헤어|싸우|싸웠|물어|데리|데려)")
_ID_WORDS = re.compile(r"생년|여권|[Pp]assport|PASSPORT|성명|이름|예약자|신분|영문|탑승|승객|명의|[Nn]ame\b|NAME\b|카드")
# one capitalised word + 이/가, then coming, going, being late or a gift (Kevin이 늦는대, Sarah가 선물 보냈어)
_LATIN_PERSON_WEAK = re.compile(r"(?:이|가)\s(?:늦|왔|온대|온다|올|갔|간대|선물)")
# the second of two capitalised words joined as people are (Tom이랑 Jake 왔어): the first one cued as a person
_LATIN_PARTNER = re.compile(r"(?<![A-Za-z])[A-Z][a-z]+(?:이랑|랑|하고)\s$")
_LATIN_PARTNER_VERB = re.compile(r"(?:이|가|도)?\s(?:왔|온|갔|간|늦|만나|만났|그러|그랬)")
# X랑 Y 중에: a choice between two things (Adidas랑 Nike 중에, Netflix랑 디즈니 중에), not company
_CHOICE_AFTER = re.compile(r"(?:이랑|랑|하고|이나|나)\s?\S+\s(?:중에|중\b|둘\s?중)")
# Companies and services people talk about as if they were someone (Apple이 그러는데, 넷플릭스가 그러는데,
# Adidas랑 Nike 중에): a word's shape can't tell these from a given name (Tesla, Nike look like one), so a small
# stoplist of very common brands, Latin and Hangul, is kept out of the person rules. Brands written with inner
# capitals (YouTube, ChatGPT, iPhone) never match LATIN_RE. Not a list of names: it only ever un-masks.
_BRANDS = set("""apple google netflix samsung amazon youtube instagram facebook meta microsoft disney nike adidas tesla
spotify coupang kakao naver toss uber starbucks zara uniqlo twitter tiktok hyundai kia line discord zoom slack notion
siri alexa chatgpt openai nintendo sony lg sk baemin yanolja musinsa oliveyoung daiso costco ikea h&m gucci chanel
넷플릭스 애플 구글 삼성 아마존 유튜브 인스타 인스타그램 페이스북 마이크로소프트 디즈니 나이키 아디다스 테슬라 스포티파이
쿠팡 카카오 네이버 토스 우버 스타벅스 자라 유니클로 트위터 틱톡 현대 기아 디스코드 노션 시리 닌텐도 소니 배민 무신사
올리브영 다이소 코스트코 이케아 구찌 샤넬 스벅 카톡""".split())


def _latin_name(words: list[str], before: str, after: str) -> bool:
    """Capitalised Latin words are a person's name: a romanized Korean name (surname + syllables), or
    any name-shaped words in identity-like text (a passport, a form) or before a person-only cue."""
    upper = [w.upper() for w in words]
    if len(words) >= 2 and (upper[0] in ROMAN_SURNAMES or upper[-1] in ROMAN_SURNAMES):
        given = "".join(upper[1:] if upper[0] in ROMAN_SURNAMES else upper[:-1]).lower()
        if len(given) >= 3 and _ROMAN_GIVEN.fullmatch(given):
            return True
    if len(words) == 1 and (words[0].isupper() or len(words[0]) < 3):  # OK, BTS, TV: acronyms
        return False
    if len(words) == 1 and (words[0].lower() in _BRANDS or _CHOICE_AFTER.match(after)):
        return False  # Apple이 그러는데, Adidas랑 Nike 중에: a company, or one of two things to choose from
    if _LATIN_PERSON_AFTER.match(after) or (len(words) == 1 and (
            _LATIN_PERSON_VERB.match(after) or _LATIN_PERSON_WEAK.match(after)
            or (_LATIN_PARTNER.search(before[-12:]) and _LATIN_PARTNER_VERB.match(after)
                and re.search(r"([A-Z][a-z]+)\S*\s$", before).group(1).lower() not in _BRANDS))):
        return True
    return len(words) >= 2 and bool(_ID_WORDS.search(before[-16:]))  # the cue just before it


_CUES = ({"", "이", "아", "야"} | {"이" + p for p in _I_PART.split("|")} | set(_TITLE.split("|"))
         | set(_WEAK.split("|")) | {"이" + p for p in _WEAK.split("|") if len(p) > 1} | _COPULA_CUE)
_PERSON_PARTICLES = {p + q for p in ("랑", "한테", "에게", "한테서") for q in ("", "은", "는", "도", "만")}
# 이 + particle that never follows an ordinary word (사진이랑/다행이네 are normal; 사진이가 is not)
_STRONG_I = {"이가", "이한테", "이는", "이도", "이를", "이에게", "이한테서", "이형", "이누나", "이언니", "이오빠"}


def _readings(word: str) -> list[tuple[str, str, str, str]]:
    """(name, surname, cue, tail) splits of a word, likelier first (지훈이가 -> 지훈 + 이가)."""
    def splits(L: int):
        rest = word[L:]
        for k in range(min(len(rest), 4), -1, -1):  # longest cue first
            if rest[:k] in _CUES:
                yield rest[:k], rest[k:]
    short = [(word[:2], "", c, t) for c, t in splits(2)]
    full = []
    for L in (3, 4):
        sur, _ = _split_surname(word[:L])
        if len(word) >= L and sur and len(sur) == L - 2:
            full += [(word[:L], sur, c, t) for c, t in splits(L)]
    short = [r for r in short if _plausible(*r)]
    full = [r for r in full if _plausible(*r)]
    hypocoristic = len(word) >= 3 and word[2] == "이" and _has_batchim(word[1])  # 지훈이 = 지훈 + 이
    if short and full and not hypocoristic and _kiwi_nnp(word, full[0][0]):  # kiwi only if both fit
        return full + short
    return short + full


def _plausible(cand: str, sur: str, cue: str, tail: str) -> bool:
    """The cheap checks (no kiwi): name syllables, stop words, places, cue and tail."""
    given = cand[len(sur):]
    if len(given) != 2 or not _namey(given):
        return False
    if (cand in _STOP or (not sur and given in _STOP)) and not (
            cue in _STRONG_I and _has_batchim(given[-1]) and cand not in _NO_PET_NAME):
        return False  # 사랑이가, 하늘이가 (only a person or pet takes 이가 so) pass; 친구가, 하늘이 don't
    if given[1] == "이" and _has_batchim(given[0]):  # 중이야, 집이야: X + 이, not a name
        return False
    if given[1] == "야":  # 모야, 뭐야: a stem + the vocative or copula, given names don't end so
        return False
    strong = _strong(given, cue)
    if cand in _PLACES and (cue not in ("아", "야", *_TITLE_SET) or cue == "형"):  # 연희야 is a person,
        return False  # 연희 (동) a place, 중국형 "Chinese-style"
    if cue in _TITLE_SET and given in _HONORIFIC:  # 예수님, 부모님: a role, not a name
        return False
    if (cand + cue)[:2] == (cand + cue)[2:4]:  # 모야모야, 나도나도: a reduplicated word
        return False
    if tail and not (strong and cue not in ("아", "야")):  # 수빈씨가, 민준이네집에서; not 민준아빠
        return False
    return strong or not cand.endswith(_PLACE_END3 if sur else _PLACE_END)


def _strong(name: str, cue: str) -> bool:
    """A cue that only follows a person: 이 + particle after batchim, vocative 아/야, a title."""
    bat = _has_batchim(name[-1])
    return ((cue.startswith("이") and len(cue) > 1 and bat and cue not in _COPULA and cue not in _COPULA_CUE)
            or (cue == "아" and bat)
            or (cue == "야" and not bat) or cue in _TITLE_SET)


def _is_name(cand: str, sur: str, cue: str, tail: bool = False):
    """Decide one reading (after _plausible): True, False, or "nominal" when kiwi must confirm in the
    sentence that no verb starts in the stem. Kiwi calls here are cached per word, that one per context."""
    given = cand[len(sur):]
    if not _plausible(cand, sur, cue, "x" if tail else ""):
        return False
    bat = _has_batchim(given[-1])
    if cue[:1] == "이" and not bat and cue not in _COPULA_CUE:
        return False  # 우마이, 노어이: after a vowel this 이 is part of a word, not a particle
    strong = _strong(given, cue)
    if sur:  # a full name: kiwi must read surname + given as a name (cached per stem)
        if len(sur) == 2:  # 사공하진, 남궁민수: a two-syllable surname is evidence enough
            return True
        level = _full_name_level(cand)
        if given[-1] in _NOT_NAME_END and given not in COMMON_GIVEN and (cue == "" or level < 3):
            return False  # 이마이, 노어이, 조오치, 지학충이: ending so, a word kiwi doesn't know is slang or a verb form
        # a name kiwi knows stands alone; a string it has never seen (임다운) needs a particle or cue
        # after it, else every unknown 3-syllable word starting with 조/오/이 would be one (조오치)
        if (level >= 1 and (given in COMMON_GIVEN or (cue and (_known_given(given) or not _is_word(given))
                                                        and (level >= 2 or not _noun_head(cand))))) \
                or level >= 3 or (given in COMMON_GIVEN and not _in_dictionary(cand) and not _noun_particle(cand)
                                  and _aligned(cand + cue, len(cand))) \
                or (strong and (
                level >= 1 or _known_given(given) or _surname_first(cand, sur))) \
                or (cue and cue not in _PLAIN | {"의", "을", "를"} and given[-1] not in _NOT_NAME_END
                    and _one_unknown(cand + cue, cand)):
            # (the last: 편하늘한테, 반지원이랑 - kiwi reads one unknown noun, surname and a word run together)
            return _nominal(cand + cue, cand)  # 이상하네, 설치하는: a verb, not 이 + 상하
        if cue in _PLAIN and given[-1] not in _NOT_NAME_END and _one_unknown(cand + cue, cand):
            return "person"  # 편하늘이 그러는데; not 부교공이 입찰 (an acronym): a plain particle needs more
        if cue == "" and level == 2 and given[-1] not in _NOT_NAME_END and cand not in _PLACES \
                and not cand.endswith(_PLACE_END3):
            return "bare"  # 추예온, 봉세인: kiwi has never seen the whole; it must stand as a word in a sentence
        return False
    if cue.startswith("이") and len(cue) > 1 and _is_word(cand + "이"):  # 고양이가, 먹이를
        return False
    if _is_common(cand):
        # an ordinary word (수영, 지은): only a person-only cue makes it a name (수영이가, 지은언니)
        if _is_word(cand + cue):  # 아저씨, 아가씨, 도련님 are words of their own
            return False
        if cue in ("아", "야") and strong:  # 동원아; not 언제야 (kiwi reads a vocative particle)
            # 여울아 일어나: kiwi takes the word for one unknown string; opening a message, it is a call
            return _vocative(cand + cue) or ("vocative" if _pieces(cand + cue) == 1 else False)
        # 씨/님 after a noun that isn't a role (부모님, 사장님) is a name (금주씨, 경호님; not 이제씨, an
        # adverb); other titles follow ordinary words too (수학쌤, 동네형), so kiwi must read a proper noun
        return ((bat and cue in _STRONG_I)
                or (cue in ("씨", "님") and _noun(cand) and cand not in _HONORIFIC)
                or (cue in _TITLE_SET and cue not in ("형", "이모", "삼촌") and cand not in _HONORIFIC
                    and _kiwi_nnp(cand + cue, cand))
                or (cue in ("이네", "이랑") and _kiwi_nnp(cand + cue, cand, float("-inf")))
                or ("person" if cue in _PLAIN and cand not in _NO_PET_NAME | _HONORIFIC and _noun(cand)
                    and _score(cand) < -17.5 and (cue != "하고" or _particle_at(cand + cue, len(cand))) else False))
    if cue in ("아", "야") and strong:  # 민준아, 세아야; not 로오아, 인나야 (일어나야): kiwi takes the
        # whole word for one unknown string when no name + vocative reading fits
        return _vocative(cand + cue) or _known_given(cand) or _pieces(cand + cue) > 1
    if strong:
        return True
    if cue == "":
        # a bare word is no evidence unless it is a common given name, and no verb reads it in the
        # sentence (지은 지); a name seen elsewhere with a cue is masked here too (the batch-wide pass)
        return "nominal" if cand in COMMON_GIVEN and _nominal(cand, cand) else False
    if cue == "의":  # 소정의 상품: a genitive name is rare in chat, only a common given name
        return cand in COMMON_GIVEN
    # a particle or the copula: a given name kiwi knows or reads here; or, before a particle that
    # mostly follows people or the copula, a word kiwi doesn't have (민기랑은, 수아인데). Not 백단을.
    return (_known_given(cand) or _kiwi_nnp(cand + cue, cand)
            or ((cue in _PERSON_PARTICLES or cue in _COPULA_CUE) and not _in_dictionary(cand))) \
        and _nominal(cand + cue, cand) and _aligned(cand + cue, len(cand)) \
        and (cue != "하고" or _particle_at(cand + cue, len(cand)))  # 재학하고 있는: the verb 하다, not "with"


@lru_cache(maxsize=100_000)
def _aligned(word: str, end: int) -> bool:
    """kiwi's reading of `word` has a morpheme boundary where the name would end: 민기|랑은, not
    이|정도 (이정 + 도) or 조은|거 read across it."""
    toks = _kiwi().tokenize(word)
    return any(t.start + t.len == end or (t.start == 0 and t.len == end + 1 and word[end] == "이") for t in toks)


@lru_cache(maxsize=100_000)
def _noun_particle(word: str) -> bool:
    """kiwi reads `word` as a dictionary noun + a particle (조정 + 은), not surname + given name."""
    best, _ = _kiwi().analyze(word, top_n=1)[0]
    return (len(best) == 2 and best[0].tag == "NNG" and not getattr(best[0], "oov", False)
            and best[1].tag.startswith("J"))


@lru_cache(maxsize=100_000)
def _noun(word: str) -> bool:
    """kiwi reads `word` alone as a noun (금주), not an adverb or interjection (이제, 예이)."""
    best, _ = _kiwi().analyze(word, top_n=1)[0]
    return len(best) == 1 and best[0].tag.startswith("NN")


@lru_cache(maxsize=100_000)
def _verb_first(word: str) -> bool:
    """kiwi reads `word` as a verb or adjective from its first syllable (남겨도 = 남기 + 어도)."""
    toks = _kiwi().tokenize(word)
    return bool(toks) and toks[0].start == 0 and toks[0].tag[0] == "V"


@lru_cache(maxsize=100_000)
def _first_tag(word: str) -> str:
    """kiwi's tag for the first piece of `word` read alone (이든 -> NP, 아니 -> IC)."""
    toks = _kiwi().tokenize(word)
    return toks[0].tag if toks else ""


@lru_cache(maxsize=100_000)
def _noun_first(word: str) -> bool:
    """kiwi reads `word` alone starting with a noun (윤슬, 하엘), not a verb, adverb or pronoun."""
    toks = _kiwi().tokenize(word)
    return bool(toks) and toks[0].tag.startswith("NN") and toks[0].tag != "NNB"


@lru_cache(maxsize=100_000)
def _ends_in_ending(word: str) -> bool:
    """kiwi ends its reading of `word` with a verb ending (남기 + 어도), not a noun (가서 + 윤)."""
    toks = _kiwi().tokenize(word)
    return bool(toks) and toks[-1].tag[0] == "E"


@lru_cache(maxsize=100_000)
def _particle_at(word: str, at: int) -> bool:
    """kiwi reads a particle where the name would end (민준|하고 = with 민준), not 하 + 고 (재학하고)."""
    return any(t.start == at and t.tag.startswith("J") for t in _kiwi().tokenize(word))


@lru_cache(maxsize=100_000)
def _one_unknown(word: str, stem: str) -> bool:
    """kiwi reads `stem` at the start of `word` as one noun it doesn't have (편하늘 + 이), not pieces."""
    toks = _kiwi().tokenize(word)
    return bool(toks) and toks[0].form == stem and toks[0].tag.startswith("NN") and getattr(toks[0], "oov", False)


@lru_cache(maxsize=100_000)
def _score(word: str) -> float:
    """kiwi's score for its best reading of `word` alone (고마운 -20: sure; 고운비 -28: a guess)."""
    return _kiwi().analyze(word, top_n=1)[0][1]


@lru_cache(maxsize=100_000)
def _pieces(word: str) -> int:
    """How many morphemes kiwi reads in `word` alone (이하늘 -> 이 + 하늘: 2)."""
    return len(_kiwi().analyze(word, top_n=1)[0][0])


@lru_cache(maxsize=100_000)
def _in_dictionary(word: str) -> bool:
    """kiwi has `word` as one dictionary entry of any kind (not a proper noun or a guess)."""
    best, _ = _kiwi().analyze(word, top_n=1)[0]
    return len(best) == 1 and best[0].form == word and best[0].tag != "NNP" and not getattr(best[0], "oov", False)


@lru_cache(maxsize=200_000)
def _in_context(window: str, at: int, stem: str) -> bool:
    """kiwi, reading the words around a candidate (window[at:]), starts no verb or adjective inside
    it: 지은 지 오래된 (짓 + 은) is not the name 지은."""
    end = at + len(stem)
    return not any(at <= t.start < end and t.tag[0] in "VXE" and t.tag != "XSN" for t in _kiwi().tokenize(window))


@lru_cache(maxsize=100_000)
def _vocative(word: str) -> bool:
    """kiwi reads the final 아/야 of `word` as a vocative particle (JKV), not 이다 + 야."""
    return any(t.tag == "JKV" for t in _kiwi().tokenize(word))


@lru_cache(maxsize=100_000)
def _nominal(word: str, stem: str) -> bool:
    """No verb, adjective, suffix or ending starts inside `stem` when kiwi reads `word`."""
    return not any(t.start < len(stem) and t.tag[0] in "VXE" and t.tag != "XSN" for t in _kiwi().tokenize(word))


@lru_cache(maxsize=100_000)
def _full_name_level(stem: str) -> int:
    """3: kiwi reads surname+given as one proper noun it knows (김철수, 박하늘); 2: as one string it
    has never seen (임다운, 피민혁); 1: as noun pieces it doesn't know (박 서 준), or unseen with a given
    part that is a word (최 + 한결); 0: a word plus an ending (공유해, 최지수?)."""
    best, score = _kiwi().analyze(stem, top_n=1)[0]
    sur, given = _split_surname(stem)
    if len(best) == 1 and best[0].tag.startswith("NN") and getattr(best[0], "oov", False) and not _is_word(stem[:2]):
        # kiwi doesn't have the whole and it isn't a word + suffix (기술명, 예민충): 임다운, 피민혁; when
        # the given part is a word itself (최 + 한결) a cue must say person (see _is_name)
        return 1 if _is_word(given) else 2
    if len(best) == 1 and best[0].tag == "NNP" and not getattr(best[0], "oov", False):
        # kiwi calls many 3-syllable words NNP (연산자, 초대형): trust it when the rest isn't a word
        if _known_given(given) or not _is_word(stem[:2]):
            return 3
    if _is_word(stem[:2]) or _is_word(stem[1:]) or score > -21:  # 연산자, 문자열, 조심해
        return 0
    # kiwi doesn't know the whole: fine if the given part alone is a name it knows (최 + 수빈), or
    # kiwi only finds unlikely noun pieces (최우 + 식)
    if _known_given(given):
        return 1
    return 1 if score < -24 and all(t.tag.startswith("NN") for t in best) and not _is_word(given) else 0


@lru_cache(maxsize=100_000)
def _surname_first(stem: str, sur: str) -> bool:
    """kiwi splits off the surname as a proper noun (최 + 지수): a full name when a title follows."""
    best, _ = _kiwi().analyze(stem, top_n=1)[0]
    return (best[0].form == sur and best[0].tag == "NNP") or (len(best) == 1 and getattr(best[0], "oov", False))


@lru_cache(maxsize=100_000)
def _known_given(given: str) -> bool:
    """A given name: in the list of common ones, or a proper noun kiwi knows well. kiwi tags many
    rare strings NNP (백단, 복근, 인나); its own word score tells the names it has seen often (수지 -12,
    재희 -13) from those (-14.5 and below)."""
    if given in COMMON_GIVEN:
        return True
    best, _ = _kiwi().analyze(given, top_n=1)[0]
    return (len(best) == 1 and best[0].tag == "NNP" and not getattr(best[0], "oov", False)
            and best[0].score >= _NNP_SCORE)


_NNP_SCORE = -14.0


# ---------------------------------------------------------------------------------------------
# Context: how a word is used in its sentence says "person" more often than its syllables do. A word
# that is also an ordinary word (바다, 유리, 별) or has syllables rare in names (기쁨, 하엘) is a name
# when the sentence treats it as one: it is called (바다야 …), given a title (유리 언니), or what
# follows it is said only of people (봄이 생일, 다정이 결근했어, 태이는 잘 지낸대). Nothing here is a
# list of names; the lists are of ordinary words: what people do, and words for people that are no name.
# words for people (and pets) that are no one's name: not masked as names however they are used
_PEOPLE_WORDS = _STOP | _HONORIFIC | _NO_PET_NAME | set(
    """아이 애 애들 얘들 아기 애기 남자 여자 조카 사촌 친척 애인 상사 동기 동료 팀원 부하 학생 제자 이웃 동창 형제 자매
    남매 아재 꼬마 첫째 둘째 셋째 막내 막둥이 누구 자네 너희 니네 걔 얘 쟤 그분 이분 저분 강아지 댕댕이 냥이 멍멍이 멍멍
    멘토 튜터 리더 보스 캡틴 매니저 셰프 코치 닥터 수녀 집사 권사 장로 형수 제수 사돈 처제 처형 매형 시누 올케 썸남 썸녀
    고삼 고딩 중딩 초딩 대딩 직딩 학부모 신입 신입생 복학생 후임 선임 사수 부사수 알바생 한분 한명 여러분 자신 본인 타인 남들
    아빠 엄마 오빠 언니 누나 형 동생 친구 사람 인간 님들 분들 사람들""".split())
_PEOPLE_WORDS -= {"하늘", "사랑", "가을", "여름", "겨울", "봄날", "미래", "희망", "보람", "소원", "은혜", "진주", "하루",
                  "바다", "우주", "나라", "천사", "별님"}  # also given names: context decides
# nouns that take a spaced title as "the … teacher/senior" (수학 쌤, 회사 언니, 동네 형), not as a name
_ASSOC = set("""국어 영어 수학 과학 사회 역사 지리 화학 물리 생물 윤리 한문 미술 음악 체육 기술 가정 요가 수영 헬스 필라테스 피티
보컬 기타 피아노 댄스 과외 학원 회사 교회 성당 동네 알바 고향 군대 대학 학교 동아리 옆집 윗집 아랫집 옆반 옆자리 직장
본사 지점 매장 가게 식당 카페 병원 약국 미용실 네일 학과 전공 대학원 연구실 실험실 교무 행정 경비 청소 배달 택배 운동 모임
스터디 과 반 팀 조 옆팀 본부 영업 인사 총무 기획 개발 마케팅 디자인 재무 회계 홍보 생산 품질 구매 전략 법무 연구 경영
운영 물류 보안 교육 행사 현장 지원 관리 총괄 프로젝트""".split())
# what is said of a person (kiwi lemmas): nouns (events of a life, ties, school and work) and verbs
# (_OWN: what a person has, which may follow the bare name: 규리 생일, 추가윤 결혼; the rest: what a person
# does, said after the name and its particle: 다정이 결근했어, 바다가 전화했대)
_KIN = set("엄마 아빠 동생 언니 오빠 누나 형 할머니 할아버지 삼촌 이모 고모 남동생 여동생".split())
_OWN = _KIN | set("생일 생파 생일파티 결혼 결혼식 돌잔치 졸업 졸업식 입학 남친 여친 남자친구 여자친구 애인 남편 와이프 부모님 "
           "목소리 성격 쌍둥이".split())
_PERSON_N = _OWN | set("""제대 전역 입대 군대 퇴사 입사 취업 취직 승진 이직 결근 결석 지각 야근 출근 퇴근 반차 연차 월차 유치원
어린이집 숙제 편지 걸음마 통화 연락 카톡 문자 답장 발표 면접 임신 출산 유학 소개팅 데이트 팀장 회장 반장 조장 부반장 말씀 전화
친절 고백 이별 장례식 세배 용돈 휴학 복학 전학 자퇴 자취 개명 늦잠 얘기 입양""".split())
_PERSON_V = set("""말하 그러 묻 물어보 만나 사귀 헤어지 싸우 지내 착하 친절하 잘생기 못생기 삐지 그만두 좋아하 싫어하 사랑하
미워하 닮 태어나 울 웃 놀 살 결혼하 졸업하 화내 화나 취하 늦잠자 자퇴하 바쁘""".split())
_SEEKING = {"찾"}  # (누리가 너 찾아: said of a subject; 버그를 찾았어 is not)
# verbs that take the person as their object just as often (민초 좋아하는, 레몬도 좋아하고): not after a bare word or 도/만
_TRANSITIVE = set("만나 좋아하 싫어하 사랑하 미워하 닮 사귀".split())
_ASKING = {"묻", "물어보"}  # (슬랙도 물어보니까: asked about it too)
# what a person has that may come before another noun (봄이 생일 선물): not 졸업 in 졸업과제
_TIES = _KIN | set("생일 생파 남친 여친 남자친구 여자친구 남편 와이프 부모님 애인 쌍둥이 목소리 성격 돌잔치 결혼식 생일파티 "
                   "졸업식 유치원 어린이집".split())
_PRONOUNS = set("나 저 너 내 제 니 우리 저희 너희 걔 얘 쟤 그분 이분 저분".split())
_WEAK_V = set("오 가 보 알 먹 마시 자 아프 늦 빌리 맡 기다리 부르 크 늘 다니 생기 오시 가시 끝나".split())
_OBJECT_V = set("만나 초대하 초대 데려가 데려오 데리 꼬시".split())  # done to a person (…를)
_FETCH = set("데리 데려가 데려오 마중 배웅".split())  # right after a bare name (윤서 데리러 가는 중)
_COMPANION_V = set("놀 만나 사귀 싸우 헤어지 결혼하 통화 얘기 연락 카톡 데이트 소개팅 결혼 여행 문자 싸움".split())
# a thing or the weather, not a person: 별이 떴다, 봄이 오나봐, 태양이 뜨거워, 희망이 없다, 단비 같은
_THING_V = set("뜨 밝 내리 맺히 피 지 불 흐르 얼 녹 빛나 뜨겁 차갑 깨지 필요하 없 많 같 쏟아지 흐리 맑 시원하 깨 부서지".split())
_APPOSITIVE = {"걔", "얘", "쟤", "그분", "이분", "저분", "그애"}
# words of time and degree that may stand between a name and what is said of it (규리 오늘 생일이야)
_BETWEEN = set("오늘 어제 내일 모레 요즘 요새 지금 아까 이번 저번 방금 아침 저녁 밤 낮 주말 올해 작년 내년 진짜 완전 이제 "
               "벌써 또 다음 담 어디 왜 좀 너무 엄청 안 못 잘 다시 같이 빨리 먼저 아직 혹시 진심 계속".split())
# days and times, which take what people do just as a person would (주말엔 야근, 그날은 출근)
_TIMES = _BETWEEN | set("평일 휴일 연휴 명절 설날 추석 오전 오후 새벽 점심 방학 학기 시즌 요즘 매일 매주 하루 이틀 사흘 나흘 "
                        "연말 연초 월말 월초 주중 주초 학기말 시험기간 현재 당분간 요번 앞으로 나중 "
                        "월요일 화요일 수요일 목요일 금요일 토요일 일요일 이번주 다음주 저번주 지난주 이번달 다음달 당일".split())
_TIMES -= {"하루", "담", "또", "좀", "안", "못", "잘"}  # (하루, 담: also given names, context decides)
# a cheap look before kiwi: the surface of the words above (most messages have none of them)
_PERSON_HINT_WORDS = """생일 생파 결혼 돌잔치 졸업 입학 제대 전역 입대 군대 퇴사 입사 취업 취직 승진 이직 결근 결석 지각 야근 출근 퇴근
반차 연차 월차 남친 여친 애인 남편 와이프 부모님 쌍둥이 유치원 어린이집 숙제 편지 걸음마 통화 연락 카톡 문자 답장 발표 면접 임신
출산 유학 소개팅 데이트 팀장 회장 반장 조장 얘기 말씀 전화 친절 고백 이별 장례 세배 용돈 회식 휴학 복학 전학 자취 개명 성격
목소리 입양 말하 말했 말해 그러 그랬 그래 그럼 그런 물어 묻 만나 만났 만난 사귀 헤어 싸우 싸웠 싸움 지내 지낸 착하 착해 착한 잘생
못생 삐져 삐졌 그만두 그만둔 그만뒀 좋아하 좋아해 좋아한 싫어하 싫어해 사랑하 사랑해 미워 닮 태어 데려 데리 초대 울었 울어 운대
웃었 웃어 웃긴 찾 놀 살아 산대 살고 살았 사는 화내 화났 화나 취해 취했 늦잠 자퇴 걔 얘 쟤 살이 개월 라고 라는 뭐하 뭐해 뭐함
뭐했 엄마 아빠 동생 언니 오빠 누나 할머니 할아버지 삼촌 이모 고모 세살 네살 두살 한살 다섯살 살이야 살이래 살인데""".split()
_PERSON_HINT_WORDS += ["뭐 하", "뭐 해", "바빠", "바쁘", "바쁜", "바뻐"]
# (one trie of the words: sre branches on a character instead of trying each word at every position)
_PERSON_HINT_PATTERN = _trie_pattern(_PERSON_HINT_WORDS)  # (one trie alone: searched fast)
_PERSON_HINT = re.compile(_PERSON_HINT_PATTERN)
# Context-only words (CTX_RE: no name syllables up front) are looked at only in messages with something
# the context rules need: a call, a title, 이 + a particle, 한테, what people do, an ID token
_CTX_HINT_REST = re.compile(
    r"한테|에게|께|이(?:가|는|도|를|한테|에게|형|누나|언니|오빠|만|까지|처럼|보다)(?![가-힣])|이네\s?집"
    r"| (?:씨|님|쌤|선배|후배|언니|오빠|누나|형|선생님|교수님|이모|삼촌)(?![가-힣])|<(?:생년월일|주민번호|외국인번호|여권번호|운전면허|전화번호|계좌|이메일)>"
    r"|(?:^|\x00|[,.!?~]\s)[가-힣]{2}[아야](?![가-힣])|랑\s(?:나|너|저)(?:랑|하고)|[가이는은]\s?[\"“]"
    r"|(?<![가-힣])(?:(?!날씨|솜씨|말씨|맵씨)[가-힣]{2}(?:씨|님|쓰|쟝)(?![가-힣])|[가-힣]{2,4}랑\s|(?:" + _SUR2 + r")[가-힣])"
    r"| (?:형|누나|언니|오빠|선배|쌤)(?:이|가|은|는|도|랑|한테)(?![가-힣])")


def _ctx_hinted(texts: list[str]) -> set[int]:
    """Indices of the texts with a context cue (_PERSON_HINT, then the rest: two searches are faster
    than one over both patterns)."""
    first = set(_matching(texts, _PERSON_HINT))
    rest = [i for i in range(len(texts)) if i not in first]
    return first | {rest[k] for k in _matching([texts[i] for i in rest], _CTX_HINT_REST)}


_ID_TOKEN_AFTER = re.compile(r"\s?,?\s?<(?:생년월일|주민번호|외국인번호|여권번호|운전면허|전화번호|계좌|이메일)>")
# a tie right before the word names it (조카 하온이, 내 동생 시우가, 친구 예담이): stronger than 우리/내 alone
_KIN_BEFORE = _KIN - {"엄마", "아빠"} | {"조카", "딸", "아들", "친구", "막내", "사촌", "후배", "선배", "동기", "첫째", "둘째",
                                      "셋째", "손녀", "손자", "남친", "여친", "남편", "와이프", "짝꿍", "베프"}
_PEOPLE_BEFORE = {"우리", "울", "내", "막내", "친구", "동생", "조카", "딸", "아들", "사촌", "후배", "선배", "동기", "애기",
                  "아기", "첫째", "둘째", "셋째", "손녀", "손자", "남동생", "여동생"}
_SPACED_TITLE_AFTER = re.compile(r" (?:씨|님|쌤|선배|후배|언니|오빠|누나|형|선생님|교수님|이모|삼촌|(?:팀장|과장|대리|부장|차장|실장"
                                 r"|원장|사장|이사|대표|작가|주임|매니저)님?)"
                                 r"(?=(?:이|가|은|는|도|를|을|한테|한테서|에게|께|랑|이랑|하고|의|만|네|이랑은|한테도)?(?![가-힣]))")
_VOC_I = {"아", "야"}
_PERSON_PART = {p + q for p in ("한테", "에게", "께", "한테서", "에게서") for q in ("", "은", "는", "도", "만")}
_PLAIN_CUE = {"이", "가", "은", "는", "도", "랑", "이랑", "하고", "를", "을", "랑은", "이랑은", "랑도", "이랑도", "만"}
_HYPO_CUE = {"이가", "이는", "이도", "이를", "이한테", "이에게", "이한테서", "이한테는", "이한테도", "이네집", "이네",
             "이형", "이누나", "이언니", "이오빠", "이만", "이까지", "이처럼", "이보다"}
_PARTICLE_SYL = set("이가은는을를의에도와과로랑만께다요고서며면지")
_FULL_CUES = ({""} | _PLAIN_CUE | _PERSON_PART | _HYPO_CUE | {"이" + p for p in _PERSON_PART} | {"씨", "님", "아", "야"}
              | {"이" + p for p in ("가", "는", "도", "를", "랑", "랑은", "만")})
_GIVEN_END_NOT = set("이가을를의에와과로께요고며면도는거것")  # particles and endings, not the end of a given name
_SUR1_SET = {x for x in SURNAMES if len(x) == 1}
_SUR2_SET = {x for x in SURNAMES if len(x) == 2}


@lru_cache(maxsize=200_000)
def _tokens(window: str, off: int) -> tuple:
    """kiwi's reading of `window` (the word at window[off:] with a little of what comes before it, so
    kiwi reads it in its sentence): (form, tag, start, len, oov), starts counted from the word."""
    return tuple((t.form, t.tag, t.start - off, t.len, bool(getattr(t, "oov", False)))
                 for t in _kiwi().tokenize(window) if t.start + t.len > off)


def _reads_noun(window: str, off: int, stem: str, wlen: int = 0) -> bool:
    """kiwi reads `stem` where it stands as a noun of its own (or one unknown string, or the hypocoristic
    찬이 as one proper noun), not a verb, adverb or the start of a longer word. A reading as a modifier
    with no noun after it (우리 누리+는 잘 지내?) is kiwi's slip: then the word alone decides."""
    toks = _tokens(window, off)
    if not toks or toks[0][2] != 0:
        return False
    if toks[0][1] == "NNP" and toks[0][0] == stem + "이":
        return True
    if wlen and toks[0][3] == wlen and toks[0][1] in ("NNG", "NNP") and toks[0][4]:
        return True  # kiwi takes the name and its ending for one string it doesn't know (금비쓰, 조진쟝)
    inside = [t for t in toks if t[2] < len(stem)]  # 라엘 -> 라 + 엘, 태이 -> 태 + 이(XSN), 새 + 봄
    if (inside[-1][2] + inside[-1][3] == len(stem) and inside[-1][1] != "MM"
            and all((t[1].startswith("NN") and t[1] != "NNB") or t[1] in ("XSN", "MM") for t in inside)):
        return True
    if len(stem) >= 2 and _namey(stem) and inside[-1][2] + inside[-1][3] == len(stem) and inside[0][1] != "NNB" \
            and all(t[1].startswith("NN") for t in inside):
        return True  # 은 + 채(NNB): kiwi cuts a name it doesn't know into nouns
    if len(inside) >= 2 and inside[0][1] in ("XPN", "MM") and inside[-1][2] + inside[-1][3] == len(stem) \
            and all(t[1].startswith("NN") for t in inside[1:]) and _namey(stem) and _unknown(stem):
        return True  # 재(XPN) + 윤, 동(MM) + 건(NNB): a name kiwi has never seen, cut into a prefix and a noun
    word = [t for t in toks if t[2] < wlen]
    nxt = [t for t in toks if t[2] >= wlen]
    if wlen and word and word[-1][1] == "ETM" and not (nxt and nxt[0][1].startswith("NN")):
        best, _ = _kiwi().analyze(stem, top_n=1)[0]
        return len(best) == 1 and best[0].tag.startswith("NN") and best[0].tag != "NNB"
    return False


def _no_verb_in(window: str, off: int, n: int) -> bool:
    """No verb, adjective, suffix or ending starts inside the first `n` characters of the word."""
    return not any(0 <= t[2] < n and t[1][0] in "VXE" and t[1] != "XSN" for t in _tokens(window, off))


def _full_pieces(window: str, off: int, name: str) -> bool:
    """kiwi reads the full name where it stands as nouns only (구 + 하늘, 나가윤), not a pronoun, determiner
    or particle (저 + 의 + 상황), a verb or an ending."""
    inside = [t for t in _tokens(window, off) if t[2] < len(name)]
    return bool(inside) and inside[0][2] == 0 and inside[0][1] not in ("NP", "MM", "MAG", "IC", "NNB") and not any(
        t[1][0] in "VXE" and t[1] != "XSN" for t in inside)


def _particle_after(window: str, off: int, n: int) -> bool:
    """kiwi reads a particle right after the name (민준|하고 = with 민준), not 하 + 고 (정리하고)."""
    return any(t[2] == n and t[1].startswith("J") for t in _tokens(window, off))


class _Evidence(NamedTuple):
    strong: int = 0         # 2 per word said only of people in the word's own clause
    weak: int = 0           # coming, going, seeing, eating as the word's own predicate
    thing: bool = False     # its predicate is said of the weather or of things
    appositive: bool = False  # 걔/얘 right after it
    compound: bool = False  # a noun right after it qualifies (주연 배우, 진영 논리)
    loose: int = 0          # of strong: a tie before another noun (가게가 생일 이벤트: the shop's event)
    verbal: bool = False    # a verb said of people (지내, 그러는데), not only a noun


def _evidence(window: str, off: int, at: int, role: str = "subject") -> _Evidence:
    """How the words after the word (which ends `at` characters after window[off]) speak of it. Only
    the word's own predicate counts: the first predicate said of anyone (읽고, 필요한, 있으면) stops the
    count, as do a clause ending, a comma, another person (저, 걔) and a line break. Strong: for a subject,
    a life event or tie (생일, 결혼, 남친, 결근, 통화, 동생), a verb said of people (그러는데, 지내, 착하),
    what someone said (…라고 했어), an age (세 살), 뭐 해; for an object (…를), meeting, inviting, taking
    along; for a companion (…랑), doing something together (놀, 통화, 싸우); after a bare word, only what
    the person has or does right after it (규리 생일, 보배 요즘 뭐하고 지내, 윤서 데리러)."""
    strong = weak = loose = 0
    thing = appositive = compound = verbal = False
    first = True
    prev_num = prev_what = prev_person = content = False
    prev_form = ""
    contents = 0
    nouns = role in ("subject", "bare", "also", "pp", "topic")
    verbs = (_PERSON_V | _SEEKING | _FETCH if role == "subject" else _PERSON_V if role in ("pp", "topic")
             else (_PERSON_V - _TRANSITIVE - _ASKING) | _FETCH if role == "bare"
             else _PERSON_V - _TRANSITIVE - _ASKING if role == "also"
             else _OBJECT_V if role == "object" else _COMPANION_V)
    toks = _tokens(window, off)
    for form, tag, start, _, _ in toks:
        if start < at:
            continue
        if tag in ("SF", "EF"):
            break
        if form == "끝" and tag == "NNG" and any(t[2] == start + 1 and t[0] == "나" and t[1] == "VV" for t in toks):
            weak += 1 if (role in ("with", "pp") or contents <= 1) else 0  # (몇 시에 끝나: kiwi reads 끝 + 나)
            break
        first_token = first
        if first and tag == "NP" and form in _APPOSITIVE:
            appositive = True
        if first and tag in ("NNG", "NNP") and form not in _PERSON_N and form not in _BETWEEN and form not in _FETCH:
            compound = True
        first = False
        if tag == "NP" and form in _PRONOUNS and not first_token:
            break  # (투성이 저 취직해서) what follows is said of someone else
        if tag == "SP" and not first_token:
            break  # a comma ends what is said of it
        word_like = tag.startswith(("NN", "V", "XS")) or tag in ("MAG", "NP")
        if role == "bare" and not content and word_like and form not in _BETWEEN:
            if not (form in _OWN or form in _FETCH or form == "뭐"
                    or (tag[0] == "V" and (form in verbs or (form == "하" and prev_what)))):
                break  # after a bare word, the next word must be what the person has or does
        content_before, contents_before = content, contents
        if word_like and form not in _BETWEEN:
            content = True
            contents += 1
        if tag.startswith("NN") and ((nouns and form in _PERSON_N) or (role in ("with", "object") and form in verbs)
                                     or (role == "bare" and form in _FETCH) or (nouns and form == "살" and prev_num)):
            nxt = next((t for t in toks if t[2] > start), None)
            if nxt is not None and nxt[1] == "NNG":
                if form not in _TIES:
                    continue  # 졸업과제, 발표자료: the noun qualifies another
                if form in ("생일", "생파"):
                    loose += 2  # (가게가 생일 이벤트: a shop has those too)
            if form in _KIN and not content_before:
                if role not in ("subject", "topic", "bare") or (nxt is not None and nxt[1] in ("JKB", "JC")):
                    break  # (엄마한테, 동생님의: someone else)
                verbal = True  # 태양이 동생 생겼대, 노을이 아빠가: someone's family
            strong += 2
            prev_person = True
            continue
        if tag[0] == "V" or tag in ("XSV", "XSA"):
            surface = window[off + start:off + start + 4]
            if prev_person and tag in ("XSV", "XSA", "VCP"):  # 결근+했어, 생일+이야: counted with the noun
                pass
            elif tag == "XSV" and role in ("subject", "topic") and contents_before == 1 and prev_form + form in verbs \
                    and prev_form + form not in _WEAK_V:
                strong += 2  # (유리가 말 + 하길: kiwi reads the noun and 하 apart)
                verbal = True
            elif form in verbs and not (form == "그러" and surface[:2] not in ("그러", "그랬", "그럴")) \
                    and not (form == "살" and re.match(r"살[아고]\s?있", surface)):
                strong += 2  # (그러는데, 그랬어 report what someone said; 왜 그래, 살아있어 don't)
                verbal = verbal or form not in _FETCH  # (a bus comes to pick you up too: 버스가 데리러 온대)
            elif form == "하" and prev_what and role in ("subject", "topic", "bare"):  # (지혜는 요즘) 뭐 해?
                strong += 2
                verbal = True
            elif form in _WEAK_V:
                weak += 1 if (role in ("with", "pp") or contents_before <= 1) else 0  # (학원 안 갔대: one place)
                break
            else:
                thing = form in _THING_V and not strong
                break  # the word's predicate is said of anyone: nothing after it is about the word
        if tag == "EC" and form in ("라고", "다고", "자고", "냐고") and role in ("subject", "topic", "pp"):
            nxt = next((t for t in toks if t[2] > start), None)
            if nxt is not None and nxt[1][0] == "V" and nxt[0] in ("하", "그러", "말하"):
                strong += 2  # (산이 엄마라고 했어) what someone said
                verbal = True
                break
        prev_form = form
        prev_num = tag in ("SN", "MM", "NR")
        prev_what = tag == "NP" and form == "뭐"
        prev_person = prev_person and tag in ("VCP", "XSV", "XSA", "EP", "JKS", "JX")
        if tag == "EC" and form != "고":
            break
        if tag in ("JKB", "JC") and form in ("과", "와", "랑", "이랑", "하고"):
            break  # (사용은 도사님과 얘기하신고) what follows is done with someone else
    return _Evidence(strong, weak, thing, appositive, compound, loose, verbal)


# (a bare one is looked at only before a spaced title, in _Anonymizer._sub_names: most words are bare)
_FOREIGN_CUES = ("가", "이", "는", "은", "도", "랑", "이랑", "한테", "에게", "한테서")
# a bare word, then a verb done to a person (서준 불러, 하람 만났는데, 세아 찾더라, 윤슬 깨워, 승아 차례야; not
# 챙기, said of things as often: 현미 챙겨)
_OBJECT_BARE = re.compile(r" (?:(?:" + "|".join(sorted(_BETWEEN, key=len, reverse=True)) + r")\s+)*"
                          r"(?:불러|부르|부를|만났|만나|만난|보러|봤|마주치|마주쳤|깨워|깨우|찾더|찾았|찾아|찾는|찾으"
                          r"|기다리|기다려|기다렸|빼고|빼면|대신|차례|데리|데려)")
_NE_AFTER = re.compile(r" (?:집|엄마|아빠|부모님|동생|언니|오빠|누나|형|할머니|할아버지|강아지|고양이|가족|가기|가서|갔|간대|갈|놀러|왔|에서)")


@lru_cache(maxsize=200_000)
def _context_readings(word: str) -> tuple:
    """The ways `word` could be a name + what follows, for the context rules: (name, kind, cue), kind
    one of voc (a call), title (씨/님 attached), hypo (the hypocoristic 이 + a particle), pp (a particle
    used of people: 한테/에게/께), plain (any other particle), plain1 (one syllable + 이), bare (nothing
    after it), full (surname + given), full2 (a two-syllable surname + given); cheap checks only."""
    out = []
    n = len(word)
    if all(ch in _HD for ch in word[:3]):
        return ()  # 공일공, 칠칠팔구: digits said aloud
    # one name syllable with a final consonant + the hypocoristic 이 (별이, 담이가, 찬이한테)
    if n >= 2 and word[1] == "이" and _has_batchim(word[0]) and word[0] in NAME_SYL:
        rest = word[2:]
        if rest in ("", "가", "는", "도", "를", "한테", "에게", "한테서", "한테는", "한테도"):
            out.append((word[0], "hypo" if rest else "plain1", "이" + rest))
    if n >= 2 and word[1] == "아" and _has_batchim(word[0]) and word[0] in NAME_SYL and n == 2:
        out.append((word[0], "voc1", "아"))  # 율아 밥 먹었어?
    # a given name of two syllables (any syllables) + a cue
    if n >= 2:
        stem, rest = word[:2], word[2:]
        bat = _has_batchim(stem[1])
        if rest in _VOC_I and (rest == "아") == bat:
            out.append((stem, "voc", rest))
        elif rest in ("씨", "님", "쓰", "쟝"):  # (쓰, 쟝: 씨 and 짱 as friends write them)
            out.append((stem, "title", rest))
        elif rest in _HYPO_CUE and bat:
            out.append((stem, "hypo", rest))
        elif rest in _PERSON_PART or (rest[:1] == "이" and rest[1:] in _PERSON_PART and bat):
            out.append((stem, "pp", rest))
        elif rest in _PLAIN_CUE and (rest[:1] not in ("이", "은", "을") or bat) and (rest not in ("가", "는", "를") or not bat):
            out.append((stem, "plain", rest))
        elif rest == "":
            out.append((stem, "bare", ""))
        elif rest == "처럼":
            out.append((stem, "like", rest))  # 다희처럼 살고 싶다
        elif rest == ("이로" if bat else "로"):
            out.append((stem, "named", rest))  # 하음이로 지었어, 발표자 주희로 정했어
        elif rest == "네":
            out.append((stem, "ne", rest))  # 채윤네 집에서, 수아네 가기로
    # a foreign given name written in Hangul (나탈리한테, 마이클 형이, 올리비아랑, 제임스가)
    for cue in _FOREIGN_CUES:
        stem = word[:n - len(cue)] if cue else word
        if 3 <= len(stem) <= 4 and word.endswith(cue) and (
                cue[:1] not in ("이", "은") or _has_batchim(stem[-1])) and (cue not in ("가", "는", "랑") or not _has_batchim(stem[-1])):
            out.append((stem, "foreign", cue))
    # a full name: surname + given (남궁연, 사공휘랑, 제갈하엘; 나가윤, 구하늘, 하지안)
    if n >= 3 and word[3:] in _FULL_CUES:
        if word[:2] in _SUR2_SET and word[2] in NAME_SYL and word[2] not in _PARTICLE_SYL:
            out.append((word[:3], "full2", word[3:]))
        if word[0] in _SUR1_SET and word[2] not in _GIVEN_END_NOT:
            out.append((word[:3], "full", word[3:]))
    if n >= 4 and word[:2] in _SUR2_SET and word[4:] in _FULL_CUES and word[3] not in _GIVEN_END_NOT:
        out.append((word[:4], "full2", word[4:]))
    # a place (진주, 하남) can be a name only when it is called, titled or spoken to; 오이오이 is no name
    return tuple(r for r in out if r[0] not in _PEOPLE_WORDS and re.fullmatch(r"[가-힣]+", r[0])
                 and r[0] not in _TIMES and not r[0].endswith(("날", "욜"))  # 그날은 출근, 수욜이: a day
                 and not (len(r[0]) == 2 and r[0][0] == r[0][1] and not _namey(r[0]))  # 넴넴, 멍멍
                 and (r[0] not in _PLACES or r[1] != "full") and word[:2] != word[2:4])


@lru_cache(maxsize=100_000)
def _modifier(word: str) -> bool:
    """kiwi reads `word` as a modifying form (온유+하+ㄴ, 차갑+ㄴ): a word before a noun, not a name."""
    return any(t.tag == "ETM" for t in _kiwi().tokenize(word))


@lru_cache(maxsize=100_000)
def _noun_head(word: str) -> bool:
    """The first two syllables of `word` are a dictionary noun (은하 in 은하철도, 주식 in 주식창)."""
    best, _ = _kiwi().analyze(word[:2], top_n=1)[0]
    return len(best) == 1 and best[0].tag == "NNG" and not getattr(best[0], "oov", False)


@lru_cache(maxsize=200_000)
def _word_score(word: str) -> float:
    """kiwi's score for `word` read alone as one token (바다 -10.7, 버스 -8.5: the lower, the rarer), or
    its whole reading's score when it splits."""
    best, score = _kiwi().analyze(word, top_n=1)[0]
    return best[0].score if len(best) == 1 else score


def _rare_word(name: str) -> bool:
    """A word a name may be: not in kiwi's dictionary, or a dictionary word rarer than everyday ones
    (바다, 유리, 진주 yes; 회사, 버스, 하루, 돈 no)."""
    return not _in_dictionary(name) or _word_score(name) <= -9.5


def _name_like(word: str, window: str = "", off: int = 0) -> bool:
    """Name syllables only, or kiwi reads it as a proper noun, alone or where it stands (하엘, 디온):
    not 긴거, 슨상, 닝겐."""
    if _namey(word):
        return True
    best, _ = _kiwi().analyze(word, top_n=1)[0]
    if not any(ch in NAME_SYL for ch in word):
        return False  # 쵸큼, 또랄, 슨상: not one name syllable
    if len(best) == 1 and best[0].tag == "NNP":
        return True
    toks = _tokens(window, off) if window else ()
    return bool(toks) and toks[0][0] == word and toks[0][1] == "NNP"


@lru_cache(maxsize=100_000)
def _word_with_i(word: str, name: str) -> bool:
    """kiwi reads name + 이 inside `word` as a dictionary noun of its own (식이가: 식이, diet)."""
    toks = _kiwi().tokenize(word)
    return bool(toks) and toks[0].form == name + "이" and toks[0].tag == "NNG" and not getattr(toks[0], "oov", False)


@lru_cache(maxsize=100_000)
def _known_word(word: str) -> bool:
    """kiwi has `word` whole as a proper noun it knows (바다, 진주 are tagged so), not a guess."""
    best, _ = _kiwi().analyze(word, top_n=1)[0]
    return len(best) == 1 and best[0].form == word and best[0].tag == "NNP" and not getattr(best[0], "oov", False)


def _unknown(word: str) -> bool:
    """kiwi has no ordinary reading of `word`: one string it doesn't know, or a proper noun."""
    return not _is_common(word) and not _in_dictionary(word)


def _msg_bounds(s: str, at: int) -> tuple[int, int]:
    lo = s.rfind("\x00", 0, at) + 1
    hi = s.find("\x00", at)
    return lo, len(s) if hi < 0 else hi


def _around(msg: str, pos: int) -> tuple[str, int]:
    """The word at msg[pos:] with up to 20 characters (whole words) before it and 48 from it on, and
    where it starts in them: what kiwi reads."""
    lo = max(0, pos - 20)
    while 0 < lo < pos and not msg[lo - 1].isspace():
        lo += 1
    if pos > lo and not msg[pos - 1].isspace():  # (ㅋㅋㅋㅋ재윤이, "승우야: kiwi would glue them to the word)
        return msg[lo:pos] + " " + msg[pos:pos + 48], pos - lo + 1
    return msg[lo:pos + 48], pos - lo


def _bare_person(msg: str, pos: int, word: str) -> bool:
    """A bare word (no particle) is used of a person: the whole message, an address (지수, 이거 봐), an
    identity number beside it, or its sentence says something only said of people."""
    after = msg[pos + len(word):]
    if not after.strip(" ~!?.ㅋㅎㅠㅜ^") or (pos == 0 and after[:1] == ",") or _ID_TOKEN_AFTER.match(after):
        return True
    if pos == 0 and re.match(r",?\s(?:너|넌|니가|너도|너는|너가|당신)(?![가-힣])|\s[A-Za-z]+\s[A-Za-z]", after):
        return True  # 성호 너는 엠티 와야겠다, 진영 wants to hang: said to or of someone
    if not _PERSON_HINT.search(after) and not re.search(r"[오왔와가갔간봤보알]", after):
        return False
    ev = _evidence(*_around(msg, pos), len(word), "subject")
    return bool(ev.strong or ev.weak or ev.appositive) and not ev.thing and not ev.compound


# after a bare word (times and adverbs skipped), what a person has or does, 걔, 뭐 (해), an age
_BARE_NEXT = re.compile(r"[\sㄱ-ㅎ~!.,^]*(?:(?:" + "|".join(sorted(_BETWEEN, key=len, reverse=True)) + r")\s+)*"
                        r"(?:" + _PERSON_HINT_PATTERN + r"|" + _trie_pattern(_OWN | _FETCH | _APPOSITIVE) + r"|데리|데려)")
_WEAK_HINT = re.compile(r"[오왔와온갔가간봤보봐알먹끝]")
_BOUND_NOUN = re.compile(r"(?:쯤|때|거|것|수|줄|만큼|정도|중|뿐)(?![가-힣])")
_COMPANION = {"랑", "이랑", "하고", "랑은", "이랑은", "랑도", "이랑도", "하고는"}
_OBJECT_CUE = {"을", "를", "이를"}


def _goes_on(after: str) -> bool:
    """A sentence goes on after the word (추예온 봤는데, 탁하은 ㅋㅋㅋ 또 지각), not a bound noun (구지헌 쯤)."""
    m = re.match(r"[\sㄱ-ㅎㅏ-ㅣ~!.,^]*", after)
    rest = after[m.end():]
    return " " in m.group(0) and bool(re.match(r"[가-힣A-Za-z]", rest)) and not _BOUND_NOUN.match(rest)


def _role(cue: str) -> str:
    return ("object" if cue in _OBJECT_CUE else "with" if cue in _COMPANION else "bare" if cue == ""
            else "also" if cue in ("도", "만", "이도", "이만") else "topic" if cue in ("은", "는", "이는") else "subject")


@lru_cache(maxsize=200_000)
def _viable_readings(word: str) -> tuple:
    """The context readings of `word` that the word alone doesn't rule out (cached per word, so most
    words cost one look-up): an everyday word before a plain particle (영화가, 회사는) never is a name."""
    out = []
    for name, kind, cue in _context_readings(word):
        if kind in ("voc", "voc1") and (_in_dictionary(word) or not _noun_first(word)):
            continue  # (개많아: no noun called)
        if kind == "bare" and (name in _BETWEEN or not (_noun_first(name) or (
                any(ch in NAME_SYL for ch in name) and not _verb_first(name) and not _is_word(name)
                and not _is_common(name)))):
            continue  # 좋다, 같이, 그거: kiwi reads no noun (이든 씨: kept for the title)
        if kind == "title" and (_in_dictionary(word) or name in _ASSOC or not (cue == "씨" or _unknown(name))):
            continue
        if kind == "hypo" and (_is_word(name + "이") or _in_dictionary(word) or not _nominal(word, name)
                               or _word_with_i(word, name) or not any(ch in NAME_SYL for ch in name)):
            continue  # 식이가 (식이, diet), 워붕이도: not a name + 이
        if kind == "plain" and _in_dictionary(word):
            continue
        if kind in ("like", "named") and (_in_dictionary(word) or not _namey(name) or not _unknown(name)):
            continue
        if kind in ("full", "full2") and (_in_dictionary(name) or _is_common(name)):
            continue
        if kind == "ne" and (not _namey(name) or not _unknown(name) or _in_dictionary(word)):
            continue
        if kind == "foreign" and not _foreign_ok(name):
            continue  # (kiwi's proper nouns made of name syllables, 3 or 4 of them, are full names: the rules above)
        out.append((name, kind, cue))
    return tuple(out)


# a role as the topic, its holder after it (부반장은 연서, 총무는 하엘; 이번 조장은 최라윤)
_ROLE_TOPIC = re.compile(r"(?:장|무|번|대표|담당|리더|막내|부장|회장|반장)(?:은|는)$")


_ANSWER_FILLER = re.compile(r"\?\s*(?:(?:아|앗|아아|음|그|맞다|맞아|아맞다)[!~.,]*\s+)*$")


_NAMED = re.compile(r"\s?(?:정했|정함|정해|지었|지음|지어|뽑았|뽑힘|뽑혔)")
_BECAUSE = re.compile(r" 때문(?:에|이야|이지|인지|임)?(?![가-힣])")
_WITH_ME = re.compile(r" (?:나|너|저)(?:랑|하고|이랑)(?![가-힣])")
_QUOTED = re.compile(r"\s?[\"“'‘][^\"”'’]{1,60}[\"”'’]\s?(?:하고|라고|이라고|라며|이라며|래|이래|했|하더라|그러|그랬)")
_LIST_ITEM = r"[가-힣]{2,3}"
_LIST_LEFT = re.compile(rf"(?:(?<![가-힣])({_LIST_ITEM}),\s*(?:그리고\s+)?)+$")
_LIST_RIGHT = re.compile(rf"(?:\s*,\s*(?:그리고\s+)?({_LIST_ITEM}?)(?:이랑|랑|하고|이|도)?(?![가-힣]))+")


def _name_list(msg: str, pos: int, word: str) -> bool:
    """`word` is an item of a comma list (현민, 수호, 그리고 예준) whose every item is made of name
    syllables and unknown to kiwi."""
    left = _LIST_LEFT.search(msg[:pos])
    items = re.findall(_LIST_ITEM, left.group(0)) if left else []
    right = _LIST_RIGHT.match(msg, pos + len(word))
    if right:
        items += [re.sub(r"(?:이랑|랑|하고|이|도)$", "", x) for x in re.findall(r",\s*(?:그리고\s+)?([가-힣]+)", right.group(0))]
    items = [x for x in items if len(x) >= 2]
    return bool(items) and all(_namey(x) and _unknown(x) for x in items)


def _answer(msg: str, pos: int, after: str, prev: str, cue: str = "") -> bool:
    """The word stands as the holder of a role named just before it (총무는 하엘) or answers a 누구 or
    이름 question in the same message (우리 반 회장 누구 됐어? 윤슬, 이름 뭐였지? 아 맞다 우빈), at the end
    of its clause; with a particle, the one the question asked with (누구랑 있냐고? 은결이랑)."""
    if not re.match(r"\s*(?:[,.!?~]|$)", after):
        return False
    if cue:
        part = cue.removeprefix("이")
        return part in ("랑", "하고", "한테", "에게") and prev[-1:] in "?" and "누구" + part in msg[:pos]
    if _ROLE_TOPIC.search(prev):
        return True
    q = msg[:pos]
    return bool(_ANSWER_FILLER.search(q)) and bool(re.search(r"누구|누가|누군|이름", q[:q.rfind("?")]))


def _by_context(msg: str, pos: int, word: str, name: str, kind: str, cue: str) -> bool:
    """Decide one context reading (see _context_readings) of `word` at msg[pos:]."""
    nl = msg.find("\n", pos)
    msg = msg if nl < 0 else msg[:nl]  # a line break ends what is said of it
    after = msg[pos + len(word):]
    before = msg[:pos].split()
    prev = before[-1] if before else ""
    title = _SPACED_TITLE_AFTER.match(after) if cue in ("", "이") else None
    id_after = _ID_TOKEN_AFTER.match(after)
    if kind == "named":  # a name given or chosen (딸 이름 하음이로 지었어, 발표자 주희로 정했어)
        if not _NAMED.match(after) or name in _PLACES:
            return False
        toks = _tokens(*_around(msg, pos))
        return _reads_noun(*_around(msg, pos), name, len(word)) or (  # (kiwi takes 하음이 for one noun)
            bool(toks) and toks[0][0] == name + "이" and toks[0][1] in ("NNG", "NNP") and toks[0][2] == 0)
    spaced = pos == 0 or msg[pos - 1].isspace()
    if kind == "like" or (kind in ("bare", "plain") and cue in ("", "이") and spaced and _BECAUSE.match(after)) \
            or (kind == "bare" and (after[:1] == "," or prev[-1:] == ",")):
        # 정우처럼, 세린이 때문에, 현민, 수호, 그리고 예준: a comparison, a cause or a list item is a name
        # only when kiwi has never seen it and it is made of name syllables (not 바보처럼, 우유, 빵)
        because = cue in ("", "이") and spaced and bool(_BECAUSE.match(after))
        listed = kind == "bare" and not because and _name_list(msg, pos, word)
        if name not in _PLACES and _namey(name) and _unknown(name) and (kind == "like" or because or listed) and (
                _reads_noun(*_around(msg, pos), name, len(word)) or (listed and _reads_noun(name, 0, name))):
            return True
        if kind == "like":
            return False
    if kind == "plain" and ((cue in _COMPANION and _WITH_ME.match(after)) or (cue in ("가", "이", "는", "은") and _QUOTED.match(after))):
        # 라엘이랑 나랑 둘 중에, 예나가 "다들 어디야" 하고 올렸어: with me, or said something quoted
        return _unknown(name) and any(ch in NAME_SYL for ch in name) and name not in _PLACES \
            and _reads_noun(*_around(msg, pos), name, len(word))
    if kind == "ne":  # 채윤네 집에서: the household of someone kiwi has never heard of
        return bool(_NE_AFTER.match(after)) and name not in _PLACES and _stands_as_noun(msg, pos, name, len(word))
    if kind == "foreign":
        return _foreign_by_context(msg, pos, word, name, cue, after, title)
    if kind == "bare" and _OBJECT_BARE.match(after) and name not in _PLACES and _namey(name) and _unknown(name) \
            and _stands_as_noun(msg, pos, name, len(word)):
        return True  # 서준 불러, 세아 찾더라: someone kiwi has never heard of, met, called or waited for
    kin = prev in _KIN_BEFORE and kind in ("bare", "plain", "plain1") and _unknown(name) and not (
        kind == "bare" and re.match(r" [가-힣]+", after) and _first_tag(after.split()[0]) == "NNG"
        and after.split()[0] not in _PERSON_N and after.split()[0] not in _BETWEEN)  # 할머니 희수 잔치: whose event
    answer = (kind == "bare" and _answer(msg, pos, after, prev)) or (
        kind == "plain" and cue in ("랑", "이랑", "하고", "한테", "이한테") and _answer(msg, pos, after, prev, cue))
    if kind in ("bare", "plain", "plain1") and not (title or id_after or kin or answer or _PERSON_HINT.search(after)
                                                    or (kind == "plain" and _WEAK_HINT.search(after) and _unknown(name))):
        return False  # nothing said of a person after it: no need to ask kiwi
    if kind in ("plain1", "bare") and not (title or id_after or kin or answer or _goes_on(after)):
        return False
    if kind == "bare" and not (title or id_after or kin or answer or (
            _BARE_NEXT.match(after) and (_namey(name) or _unknown(name) or _rare_word(name)))):
        return False  # (출구 …, 카페 …): what comes next is not what a person has or does
    if kind in ("bare", "plain", "plain1") and name in _PLACES and not title:
        return False  # 진주 여행: a place, unless it is titled (진주 씨)
    opening = not before or prev[-1:] in ",.!?~"
    if kind in ("voc", "voc1") and not opening:
        return False
    window, off = _around(msg, pos)
    wlen = len(word)
    if kind in ("voc", "voc1"):
        # a call: it opens the message and kiwi reads a vocative particle (바다야 밥 먹었어?, 은결아!!!, 율아);
        # a word kiwi doesn't know must have name syllables (not 닝겐아, 웃잫아)
        toks = _tokens(window, off)
        noun = bool(toks) and toks[0][0] == name and toks[0][1] in ("NNG", "NNP") and not toks[0][4]  # 기쁨, 정원
        if not _reads_noun(window, off, name, wlen) or not (_namey(name) or _in_dictionary(name) or noun):
            return False
        if kind == "voc1" and not (after.strip() and noun):
            return False
        # kiwi reads the vocative particle (or 야 as a particle, or, after a name, takes 아 for a noun of its
        # own: 예찬아 일어나, 보배야 일어나)
        return any(t[2] == wlen - len(cue) and (t[1] == "JKV" or (t[1] in ("NNG", "IC", "JX") and _namey(name)))
                   for t in toks) and not _in_dictionary(word)
    if kind == "title":  # 가온씨, 하엘님: 씨 or 님 after a noun that is no role (멘토님, 은사님 are roles)
        return (_reads_noun(window, off, name, wlen) and not _in_dictionary(word) and name not in _ASSOC
                and (cue == "씨" or _unknown(name)) and _name_like(name, window, off))
    if kind == "hypo":  # 담이가, 소망이가, 율이한테: 이 + a particle follows only a person's (or pet's) name
        return (not _is_word(name + "이") and _nominal(word, name) and not _in_dictionary(word)
                and (len(name) == 2 or name in NAME_SYL) and (cue != "이네" or after.startswith(" 집")))
    if kind in ("full", "full2"):
        return _full_by_context(window, off, wlen, name, kind, cue, after, prev, opening, bool(title), bool(id_after))
    unknown = _unknown(name)
    name_like = (unknown and _name_like(name, window, off)) or (_namey(name) and (not _in_dictionary(name)
                                                                                  or _word_score(name) <= -10.2))
    if title and kind in ("bare", "plain", "plain1"):  # 유리 언니, 훈이 형, 예슬이 누나
        if title.group(0).strip() in ("씨", "님"):
            return ((_reads_noun(window, off, name, wlen) or (kind == "bare" and not _verb_first(name)))
                    and name not in _ASSOC and (cue == "" or unknown))
        job = not re.match(r" (?:언니|오빠|누나|형|쌤|선배|후배|이모|삼촌)", title.group(0))
        return _reads_noun(window, off, name, wlen) and name not in _ASSOC and name not in _HONORIFIC and (
            name_like or (job and name not in _PEOPLE_WORDS))  # 하늘 팀장님: a job title follows a name
    if id_after and unknown:
        return True  # 지민 <전화번호>: a name beside an identity number
    starts_noun = any(t[2] == 0 and t[1].startswith("NN") and t[1] != "NNB" for t in _tokens(window, off))
    if (kin or answer) and (_reads_noun(window, off, name, wlen) or (answer and starts_noun)) and (
            (unknown and any(ch in NAME_SYL for ch in name)) or (answer and _namey(name) and name not in _PEOPLE_WORDS)):
        return True  # 조카 하온이, 총무는 하엘, 누구 됐어? 윤슬
    if cue == "하고" and not _particle_after(window, off, len(name)):
        return False  # 정리하고, 은퇴하고: the verb 하다, not "with"
    if kind != "pp" and not _PERSON_HINT.search(after) and not (kind == "plain" and unknown):
        return False
    if kind == "bare" and not (_namey(name) or unknown or _rare_word(name)):
        return False
    ev = _evidence(window, off, wlen, "pp" if kind == "pp" else _role(cue))
    strong = ev.strong
    if ev.thing or (ev.compound and kind == "bare"):
        return False  # 별이 떴다, 진영 논리: a thing, or the word qualifies the noun after it
    if prev in _PEOPLE_BEFORE and kind in ("plain", "plain1") and strong:
        strong += 1  # 우리 솔이, 막내 채아가
    if not (_reads_noun(window, off, name, wlen) or (kind == "plain" and cue == "이" and unknown and _namey(name)
                                                     and not _verb_first(name) and not _straddles(window, off, len(name)))):
        return False  # (하랑이 학원 끝났대: kiwi cuts 하 + 랑 + 이 in the sentence, alone it reads no verb; not
        # 한 송이: kiwi reads a word across the name's end)
    if kind == "pp":  # 진주한테 돈 빌려줬어 (a place takes 한테 only as a person: 일본에게 하겠구만 is not one)
        return (unknown and _namey(name) and name not in _PLACES) or strong + (ev.weak if name not in _PLACES else 0) >= 1
    if kind == "bare":
        if ev.appositive:  # 온유 걔 진짜 착하더라
            return (unknown and _name_like(name, window, off)) or _rare_word(name)
        return strong >= 2 and _namey(name) and (unknown or _word_score(name) <= -10.2)
    if kind == "plain1":  # 봄이 생일, 산이 엄마라고 했어: one name syllable + 이, then what only people do
        return strong >= 2
    # plain particles (바다가, 은혜는, 미래는): something said only of people; a word kiwi reads as a proper
    # noun with name syllables, coming or going (하람이 학원 안 갔대, 제니랑 쇼핑 갔다 옴)
    if _in_dictionary(word):
        return False
    if unknown and _name_like(name, window, off) and _namey(name[:1]) and ev.weak:
        return True
    if ev.verbal and strong >= 2:
        return True  # 미래는 요즘 뭐하고 지내: a verb of people needs no rarer word
    return strong - ev.loose >= 2 and _rare_word(name) if not unknown else strong >= 2


# a meal or a drink had together, right after …랑 (저녁 먹어, 술 한잔 했어)
_MEAL_WITH = re.compile(r" (?:오늘|어제|내일|이따|같이)?\s?(?:밥|저녁|점심|아침|술|커피|맥주)\s?(?:먹|마시|마셨|한잔|한 잔)")


def _straddles(window: str, off: int, n: int) -> bool:
    """kiwi reads a word that starts inside the first `n` characters and ends after them (한 + 송이)."""
    return any(0 <= t[2] < n < t[2] + t[3] for t in _tokens(window, off))


@lru_cache(maxsize=100_000)
def _foreign_ok(name: str) -> bool:
    """3 or 4 syllables kiwi knows whole as a proper noun, not made of name syllables (those are full names:
    the rules above), no place, plural, brand or compound of a noun (국민은행, 롯데월드, 현대카드)."""
    return not (_namey(name) or name in _PLACES or name.endswith(("들",) + _PLACE_END3)
                or any(name[:k] in _BRANDS for k in range(2, len(name) + 1))  # 카카오톡
                or not _known_word(name) or (len(name) == 4 and _is_word(name[2:])))


def _stands_as_noun(msg: str, pos: int, name: str, wlen: int) -> bool:
    """kiwi reads a word it has never seen (made of name syllables) as a noun where it stands, or at least
    not as a verb on its own: in a sentence it cuts such a word into whatever it knows (하 + 람, 채 + 윤)."""
    return _reads_noun(*_around(msg, pos), name, wlen) or not _verb_first(name)


def _foreign_by_context(msg: str, pos: int, word: str, name: str, cue: str, after: str, title) -> bool:
    """A foreign given name kiwi knows as a proper noun (제임스, 올리비아, 나탈리): titled (마이클 형이), told
    something (나탈리한테), or with a verb of people after it (알렉스가 그러는데, 올리비아랑 저녁 먹어)."""
    window, off = _around(msg, pos)
    if not _reads_noun(window, off, name, len(word)):
        return False
    if not cue:
        return bool(title)
    if cue in ("한테", "에게", "한테서"):
        return True
    ev = _evidence(window, off, len(word), _role(cue))
    if cue in _COMPANION and _MEAL_WITH.match(after):
        return True  # 올리비아랑 저녁 먹어: a meal or a drink together
    # with someone: only what people do together (…랑 싸워); things go along with 랑 too (파이썬이랑 자고, X랑 먹었어)
    return not ev.thing and (ev.strong >= 2 or (ev.weak >= 1 and cue not in _COMPANION))


def _full_by_context(window: str, off: int, wlen: int, name: str, kind: str, cue: str, after: str, prev: str,
                     opening: bool, title: bool, id_after: bool) -> bool:
    """A surname + given name its sentence uses as one (see _by_context)."""
    given = name[2:] if kind == "full2" else name[1:]
    if _in_dictionary(name) or _is_common(name) or given[-1] in _NOT_NAME_END \
            or (kind == "full" and name.endswith(_PLACE_END3)):
        return False  # 시간은, 대부분이, 오늘은: kiwi reads an ordinary word
    if kind == "full" and ((name[2] in "도를을의에만랑로와과" and (_is_word(name[:2]) or _is_common(name[:2])
                                                           or name[:2] in _PEOPLE_WORDS))
                           or (name[2] in "은는이가" and _noun_head(name))):
        return False  # 엄마랑, 정치랑은, 하나만, 여기서도, 여권은: a word and a particle
    if kind == "full" and len(name + cue) >= 4 and _is_word(name[:2]) and _is_word((name + cue)[2:]):
        return False  # 하루 + 정도: two words
    if kind == "full2" and (cue or title or id_after):
        return True  # 사공휘랑, 남궁연 교수님: a two-syllable surname and a particle or a title
    namey = _namey(given)
    word_given = ((_in_dictionary(given) or _known_word(given)) and _reads_noun(given, 0, given) and given not in _PEOPLE_WORDS
                  and given not in _ASSOC and given not in _HONORIFIC and not _noun_head(name))  # 신 + 바다, 임 + 소망
    if title:  # 구하늘 선배, 신바다 씨
        return (namey or word_given) and _no_verb_in(window, off, len(name))
    if id_after:  # 김도하 <생년월일>
        return namey or kind == "full2"
    if not cue and re.match(r"\s*(?:[,.!?~]|$)", after) and (opening or prev[-1:] in "은는이가,"):
        # a full name as a whole sentence or a list item (어제 만난 사람? 윤하진. / 부조장은 위서율), not
        # a word and a suffix (나 + 호기) or a sound (오모모~)
        return (namey and _full_name_level(name) >= (1 if opening else 2) and _no_verb_in(window, off, len(name))
                and not _noun_head(name) and given[0] != given[-1] and not _is_word(given))
    if not cue and not _goes_on(after):
        return False
    if kind == "full2" and not _is_common(name):
        return True  # 사공민 이번에 장학금 받았대: a two-syllable surname, a sentence going on
    if not _PERSON_HINT.search(after) and not re.search(r"[오왔와가갔간봤보알먹]", after):
        return False
    if cue == "하고" and not _particle_after(window, off, len(name)):
        return False
    strong, weak, thing, appositive, compound = _evidence(window, off, wlen, _role(cue) if cue else "subject")[:5]
    if thing or (compound and not cue) or not (strong or weak or appositive):
        return False
    if not namey and kind == "full" and not (word_given and (strong >= 2 or cue in _COMPANION or cue in _PERSON_PART)) \
            and not (strong >= 2 and _unknown(given) and _score(name) < -26 and given[-1] in NAME_SYL) \
            and not (appositive and _score(name) < -26):
        return False  # 임소망이 발표 맡았대, 강바다랑 밥 먹음, 채이든 오늘 지각함: a given name that is a word, or
        # has syllables rare in names, needs a cue of people
    if (given in COMMON_GIVEN or _known_given(given)) and (_no_verb_in(window, off, 1) or _full_pieces(window, off, name)):
        return True  # 가지원 오늘 안 왔어: 가 + 지원
    nxt = next((t for t in _tokens(window, off) if t[2] >= len(name)), None)
    if not cue and _modifier(name) and nxt is not None and nxt[1].startswith("NN"):
        return False  # 온유한 성격, 차가운 물: a modifier before its noun
    if (cue and cue not in _COMPANION and cue not in _PERSON_PART) or (not cue and _noun_head(name)):
        if not (strong or appositive):
            return False  # 은하철도 999 봤어, 주식창 보지마: a plain particle or a noun first needs more
    if kind == "full" and _score(name) >= -25 and not (strong >= 2 or appositive):
        return False  # kiwi finds a likely reading of the string (공유한, 방청권): coming and going is not enough
    if _full_pieces(window, off, name):
        return True
    # a reading kiwi only guesses (하지안 -> 하+지+안, 추서+하), when what follows is strong; not a pronoun
    # or determiner first (저 + 의 + 상황)
    first = next((t for t in _tokens(window, off) if t[2] == 0), None)
    return ((strong >= 2 or appositive) and _score(name) < -22 and first is not None
            and first[1] not in ("NP", "MM", "MAG", "IC"))


class SeenSet(set):
    """Raw values replaced; carries the pseudonyms emitted so a scan won't flag a fake name."""
    pseudonyms: set

    def __init__(self, *a):
        super().__init__(*a)
        self.pseudonyms = set()


class Anonymizer:
    """Masks one conversation. Same key + same known names -> same pseudonyms in every run."""

    def __init__(self, known_names: Iterable[str] = (), key: str | None = None, *, keep_words: Iterable[str] = (),
                 detect_names: bool = True):
        """known_names are always masked (with their given name and inflected forms); keep_words are never
        masked as names (a nickname that is an ordinary word, a band, a pet the user wants kept)."""
        self.key = (key or DEFAULT_KEY).encode()
        if isinstance(keep_words, str) or isinstance(known_names, str):
            raise TypeError("known_names and keep_words are lists of names, not one string")
        self.keep = {str(w).strip() for w in keep_words if str(w).strip()}
        self.detect_names = detect_names
        self.counts: Counter = Counter()
        self.seen = SeenSet()
        self.names: set[str] = set()  # the real names replaced so far (known and detected): the review inventory
        self._cache: dict[str, tuple[str, tuple]] = {}
        self._pseudo: dict[str, str] = {}
        self._decision: dict[str, str | None] = {}
        names = []
        for n in known_names or ():
            n = re.sub(r"[^\w가-힣 ]", "", str(n)).strip()
            # contact names like 엄마/자기/여보 are no identifiers; masking them would garble the chat
            if len(n.replace(" ", "")) >= 2 and n not in _STOP:
                names.append(n)
        self.known = sorted(set(names), key=len, reverse=True)
        self._reserved = set()  # fake names must never equal a real known name
        for n in self.known:
            sur, giv = _split_surname(n.replace(" ", ""))
            self._reserved.update({n, giv})
        # the known names' fake given names are fixed first, in sorted order (every run agrees), each one
        # taken once: two speakers never share a pseudonym, and no third party gets a speaker's (the page
        # swaps the speakers' pseudonyms back to their names, lib.names)
        self._given_fake: dict[str, str] = {}
        self._known_fakes: set[str] = set()
        for n in sorted(self.known):
            compact = n.replace(" ", "")
            if re.fullmatch(r"[가-힣]{2,}", compact):
                self._known_fakes.add(self._fake_given(_split_surname(compact)[1] if len(compact) >= 3 else compact))
        forms = set()
        for n in self.known:
            compact = n.replace(" ", "")
            forms.update({n, compact})
            if re.fullmatch(r"[가-힣]{3,4}", compact):
                forms.add(_split_surname(compact)[1])  # given name alone: 민지, 민지야, 민지한테...
        forms = sorted((f for f in forms if len(f) >= 2), key=len, reverse=True)
        # Left boundary: not inside a Hangul word, except after 우리/울/내 (우리민지).
        known_pat = (r"(?:(?<![가-힣A-Za-z])|(?<=우리)|(?<=울)|(?<=내))(?P<kn>"
                     + _trie_pattern(forms) + r")(?![A-Za-z])") if forms else None
        self._known_re = re.compile(known_pat) if forms else None
        # one pass for both, so a pseudonym just written is never looked at again
        detectors = (FORM_RE.pattern, LATIN_RE.pattern, CAND_RE.pattern) if detect_names else ()
        self._names_re = re.compile("|".join(p for p in (known_pat, *detectors) if p)) if (forms or detect_names) else None
        # the same, and any other word, for the messages where context may say "person" (_ctx_hinted)
        self._names_ctx_re = re.compile("|".join(p for p in (known_pat, *detectors, CTX_RE.pattern) if p)) \
            if detect_names else self._names_re
        self._known_forms = set(forms)
        self._with_context = True  # (see _sub_names)
        self._found: set[str] = set()  # third-party names found so far
        self._found_ids: set[str] = set()

    # ------------------------------------------------------------------ pseudonyms
    def _h(self, s: str) -> int:
        return int.from_bytes(hmac.new(self.key, s.encode(), hashlib.sha256).digest()[:8], "big")

    def _fake_given(self, given: str) -> str:
        if given in self._given_fake:
            return self._given_fake[given]
        pool = FAKE_GIVEN[_has_batchim(given[-1])]
        i = self._h("given:" + given)
        # a one-syllable name (별이, 찬이한테) gets a two-syllable fake without that syllable (다온이, 로운이한테)
        fake = next((c for k in range(len(pool)) if (c := pool[(i + k) % len(pool)]) != given
                     and c not in self._reserved and c not in self._known_fakes and given not in c), pool[0])
        self._given_fake[given] = fake
        return fake

    def pseudonym(self, name: str) -> str:
        """The fake name for a real one (full name -> fake full name, given -> fake given)."""
        if name in self._pseudo:
            return self._pseudo[name]
        compact = name.replace(" ", "")
        if re.fullmatch(r"[가-힣]+", compact):
            sur, giv = _split_surname(compact) if len(compact) >= 3 else ("", compact)
            fake = self._fake_given(giv)
            if sur:
                fsur = FAKE_SURNAMES[self._h("sur:" + sur) % len(FAKE_SURNAMES)]
                fake = fsur + fake
        else:
            fake = FAKE_LATIN[self._h("latin:" + name) % len(FAKE_LATIN)]
            fake = fake.upper() if name.isupper() else fake  # HONG GILDONG -> ALEX
        self._pseudo[name] = fake
        self.seen.pseudonyms.add(fake)
        if sur_giv := (_split_surname(fake)[1] if len(fake) >= 3 else None):
            self.seen.pseudonyms.add(sur_giv)
        return fake

    # ------------------------------------------------------------------ names in text
    def _name_decision(self, word: str) -> tuple[str, bool | str] | None:
        """(prefix of `word` that is a name, True or the sentence check it needs) or None; cached."""
        if word not in self._decision:
            self._decision[word] = next(
                ((c, v) for c, s, cue, tail in _readings(word) if (v := _is_name(c, s, cue, bool(tail)))), None)
        return self._decision[word]

    def _sub_names(self, text: str, hit) -> str:
        """Replace names in `text` (one message or a \\x00-joined block); hit(pos, type, raw) records. The
        pattern looks at context-only words too while self._with_context is set (_mask_block)."""
        def known(m, base=0):
            raw = m.group("kn")
            hit(base + m.start(), NAME, raw)
            return self.pseudonym(raw)

        def repl(m):
            if self._known_re is not None and m.group("kn"):
                return known(m)
            if self.detect_names and m.group("fn"):
                return form(m)
            if self.detect_names and m.group("lat"):
                return latin(m)
            if m.lastgroup == "cx":  # no name syllables up front: only context can tell
                return candidate(m, m.group(0), m.start(), context_only=True)
            return candidate(m, m.group(0), m.start())

        def form(m):
            word, at = m.group("fn"), m.start("fn")
            if len(word) == 3 and word[:2] in _SUR2_SET and word[2] in NAME_SYL and word[2] not in _PARTICLE_SYL \
                    and word not in self.keep and not _in_dictionary(word):
                hit(at, NAME, word)  # 성명 남궁윤
                return m.group("fc") + self.pseudonym(word)
            sur, given = _split_surname(word) if len(word) >= 3 else ("", word)
            if len(given) == 2 and _namey(given) and word not in _STOP | self.keep and not _in_dictionary(word) \
                    and given[-1] not in _NOT_NAME_END and (not _verb_first(word) or (sur and (
                        _score(word) < -25 or not _ends_in_ending(word)))) \
                    and (sur or (not _is_common(word) and _nominal(word, word))):  # not 이름이라고, 이름을 여려개
                # (여러 개), 이름 남겨도 (남기 + 어도)
                hit(at, NAME, word)
                return m.group("fc") + self.pseudonym(word)
            rest = re.match(r"[가-힣]*", m.string[m.end():]).group(0)
            if rest:  # 이름 하음이로 지었어: the whole word is read (the match ended before 로)
                out = candidate(m, word + rest, at)
                if out.endswith(rest) and out != word + rest:
                    return m.group("fc") + out[:-len(rest)]
            return m.group("fc") + candidate(m, word, at)  # 이름이 뭐야: not a name, but look as usual

        def latin(m):
            raw = m.group("lat")
            lo = m.string.rfind("\x00", 0, m.start()) + 1
            if raw in self.keep or not _latin_name(re.split(r"[ \-]", raw), m.string[lo:m.start()], m.string[m.end():m.end() + 20]):
                return raw
            hit(m.start(), NAME, raw)
            return self.pseudonym(raw)

        def candidate(m, word, at, context_only=False):
            readings = _viable_readings(word)
            if not readings and len(word) == 2 and m.string.startswith((" 씨", " 님"), at + 2) \
                    and any(ch in NAME_SYL for ch in word) and _first_tag(word) in ("NP", "NNG", "NNP"):
                readings = ((word, "bare", ""),)  # 이든 씨: a word kiwi cuts up, titled
            elif 3 <= len(word) <= 4 and _SPACED_TITLE_AFTER.match(m.string, at + len(word)) and _foreign_ok(word):
                readings += ((word, "foreign", ""),)  # 마이클 형이: a foreign name kiwi knows, titled
            if context_only and not readings and self._known_re is None:
                return word  # (most words: one cached look-up)
            name, how = (None, None) if context_only else self._name_decision(word) or (None, None)
            if isinstance(how, str):  # kiwi must confirm it in the words around it
                end = m.string.find("\x00", at)
                end = len(m.string) if end < 0 else end
                ok = _in_context(*_window(m.string, at, at + len(word)), name)
                if how == "vocative":  # a call opens the message and something follows it
                    ok = ok and (at == 0 or m.string[at - 1] == "\x00") and bool(m.string[at + len(word):end].strip())
                elif how == "bare":  # 추예온 봤는데: a word of its own with a sentence going on after it (not
                    # 인가유ㅜ, 하해우~, 구지헌 쯤: slang, a typo, or a word before a bound noun)
                    ok = ok and (at == 0 or m.string[at - 1] in " \x00") and bool(
                        _SENTENCE_GOES_ON.match(m.string, at + len(word), end))
                elif how == "person":  # a word that is also a name, then something said of a person
                    ok = ok and bool(_PERSON_PRED.search(m.string, at + len(word), min(end, at + len(word) + 16)))
                elif how == "nominal" and word == name and not m.groupdict().get("ttl"):
                    # a common given name standing bare (정은, 한결, 진영 are words too): its sentence must
                    # speak of a person, or it is the whole message
                    lo, hi = _msg_bounds(m.string, at)
                    ok = ok and _bare_person(m.string[lo:hi], at - lo, word)
                name = name if ok else None
            if name is None and not context_only and m.groupdict().get("ttl"):
                sur, _ = _split_surname(word) if len(word) >= 3 else ("", word)
                own = m.groupdict().get("own")
                if sur and own:  # 최한결 생일: kiwi must read a name there, else 이번주 생일 would be one
                    name = word if _plausible(word, sur, "씨", "") and _nominal(word, word) and (
                        _full_name_level(word) >= 1 or _kiwi_nnp(word + own, word, float("-inf"))) else None
                elif sur:  # 박하늘 선배, 이하나 대리님; not 정하고 팀장이 (정하 + 고) or 고마운 선배 (kiwi is sure of
                    # the verb); 고운비 선배: kiwi finds only an unlikely verb reading (score below -26)
                    name = word if _plausible(word, sur, "씨", "") and not _is_word(word) and not _noun_particle(word) and (
                        _nominal(word, word) or (_score(word) < -26 and word[-1] not in _NOT_NAME_END)) \
                        and not word.endswith(_PLACE_END3) else None  # not 마자여 돼리님들 (맞아요)
                elif len(word) == 2 and _plausible(word, "", "", "") and not _is_common(word) \
                        and _nominal(word, word):  # 예나 언니, 준서 형 (not 동네 형)
                    name = word
                elif len(word) == 3 and word[2] == "이" and _has_batchim(word[1]) and _plausible(word[:2], "", "", "") \
                        and not _is_common(word[:2]):  # 예슬이 누나
                    name = word[:2]
            if name is None and self.detect_names and readings:
                # how the sentence uses it (봄이 생일, 유리 언니, 바다야)
                lo, hi = _msg_bounds(m.string, at)
                msg, pos = m.string[lo:hi], at - lo
                name = next((n for n, kind, cue in readings if _by_context(msg, pos, word, n, kind, cue)), None)
            if name is not None and (name in self.keep or word in self.keep):
                name = None  # the user said this word is not a name
            if name is None:  # maybe a known name inside (우리민지)
                if self._known_re is None:
                    return word
                return self._known_re.sub(lambda k: known(k, at), word)
            hit(at, NAME, name)
            return self.pseudonym(name) + word[len(name):]
        rx = self._names_ctx_re if self._with_context else self._names_re
        return rx.sub(repl, text) if rx is not None else text

    # ------------------------------------------------------------------ numbers and IDs
    @staticmethod
    def _sub_numbers(text: str, hits: list) -> str:
        def repl(m):
            typ = _GROUP_TYPE[m.lastgroup]
            raw = m.group(m.lastgroup)
            gd = m.groupdict()
            handle = "handle" if gd.get("handle") else "handle2" if gd.get("handle2") else None
            if typ == "아이디" and handle:
                # keep the cue word (카톡 아이디 ...) and mask only the handle
                hits.append((typ, m.group(handle)))
                s, e = m.span(handle)
                return text[m.start():s] + TOKENS[typ] + text[e:m.end()]
            if typ == "계좌":
                digits = re.search(r"\d[\d\- ]*\d", raw)
                hits.append((typ, digits.group(0).strip()))
                return raw[:digits.start()] + TOKENS[typ]
            if typ == "생년월일":
                cue = re.match(r"(?:생년월일|생년|생일|출생|태어난\s?날|DOB|dob)[\s:은는이가]*", raw)
                if cue:
                    hits.append((typ, raw[cue.end():]))
                    return raw[:cue.end()] + TOKENS[typ]
                hits.append((typ, raw[:-1].strip()))
                return TOKENS[typ] + "생"
            hits.append((typ, raw.strip()))
            lead = raw[:len(raw) - len(raw.lstrip())]
            return lead + TOKENS[typ]
        text = NUM_RE.sub(repl, text)
        if _ID_CUE.search(text):  # a bare date next to a name, passport or ID is a birth date
            text = _BARE_DATE.sub(lambda m: (hits.append(("생년월일", m.group(0))), TOKENS["생년월일"])[1], text)
        for typ, rx in _SCAN:  # belt and braces: nothing the final leak scan looks for may survive
            if rx.search(text):
                text = rx.sub(lambda m: (hits.append((typ, m.group(0))), TOKENS[typ])[1], text)
        return text

    # ------------------------------------------------------------------ public API
    def mask(self, text: str) -> str:
        return self.mask_many([text])[0]

    def mask_many(self, texts, block: int = 50_000, progress: bool = False) -> list[str]:
        """Mask a batch (list or pd.Series of str; None/NaN become ""); same as [mask(t) for t in texts].

        Each unique string is masked once and cached. Numbers/IDs: only the messages the cheap
        NUM_HINT finds; names: one regex pass over a \\x00-joined block of messages.
        """
        gc_on = gc.isenabled()
        gc.disable()  # millions of small tuples: the cyclic GC would rescan them again and again
        try:
            return self._mask_many(texts, block, progress)
        finally:
            if gc_on:
                gc.enable()

    def _mask_many(self, texts, block: int, progress: bool) -> list[str]:
        texts = [t if t.__class__ is str else "" if t is None or t != t else str(t) for t in texts]
        mult = Counter(texts)
        new = [t for t in mult if t not in self._cache]
        starts = range(0, len(new), block)
        if progress and len(new) > block:
            from tqdm.auto import tqdm
            starts = tqdm(starts, desc="masking", unit="block")
        for b in starts:
            chunk = new[b:b + block]
            for t, out, hits in zip(chunk, *self._mask_block(chunk)):
                self._cache[t] = (out, tuple(hits))
        found = {raw for t in new for typ, raw in self._cache[t][1]
                 if typ == NAME and _HANGUL_NAME.fullmatch(raw)} - self._known_forms - self._found
        if found:
            # a third party found anywhere in the batch is masked everywhere in it (민준 왔어 after
            # 민준아 elsewhere)
            self._found |= found
            self._mask_found(list(mult))
        ids = {raw.lstrip("@").split("#")[0] for t in new for typ, raw in self._cache[t][1] if typ == "아이디"} - self._found_ids
        if ids:  # a handle given once (카톡 아이디 minji99) is masked where it is later typed bare
            self._found_ids |= ids
            self._mask_found_ids(list(mult))
        for t, n in mult.items():
            for typ, raw in self._cache[t][1]:
                self.counts[typ] += n
                self.seen.add(raw)
                if typ == NAME:
                    self.names.add(raw)
        return [self._cache[t][0] for t in texts]

    def _mask_found(self, strings: list[str]) -> None:
        names = sorted(self._found - self.seen.pseudonyms, key=len, reverse=True)
        if not names:
            return
        # (after 우리/울/내 too, as known names are: 우리짤랑이)
        rx = re.compile(r"(?:(?<![가-힣<0-9])|(?<=우리)|(?<=울)|(?<=내))(?P<nm>" + _trie_pattern(names)
                        + r")(?P<rest>[가-힣]{0,6})(?![가-힣])")
        outs = [self._cache[t][0] for t in strings]
        for i in _matching(outs, rx):
            t = strings[i]
            out, hits = self._cache[t]
            new_hits = []

            def repl(m):
                name, rest = m.group("nm"), m.group("rest")
                if not _name_leak(name, rest) or _starts_with_any(m.group(0), self.seen.pseudonyms):
                    return m.group(0)  # not that person, or a pseudonym written earlier (정연아)
                new_hits.append((NAME, name))
                return self.pseudonym(name) + rest
            out = rx.sub(repl, out)
            if new_hits:
                self._cache[t] = (out, hits + tuple(new_hits))

    def _mask_found_ids(self, strings: list[str]) -> None:
        ids = sorted((i for i in self._found_ids if len(i) >= 3), key=len, reverse=True)
        if not ids:
            return
        # (with what people add to a handle: moonbyul -> moonbyul_2231, moonbyul#2231)
        rx = re.compile(r"(?<![A-Za-z0-9._@])@?(?:" + _trie_pattern(ids) + r")(?:[._#][A-Za-z0-9_]+)?(?![A-Za-z0-9_])")
        outs = [self._cache[t][0] for t in strings]
        for i in _matching(outs, rx):
            t = strings[i]
            out, hits = self._cache[t]
            new_hits = tuple(("아이디", m.group(0)) for m in rx.finditer(out))
            self._cache[t] = (rx.sub(TOKENS["아이디"], out), hits + new_hits)

    def _mask_block(self, chunk: list[str]) -> tuple[list[str], list[list]]:
        hits: list[list] = [[] for _ in chunk]
        chunk = list(chunk)
        for i in _matching(chunk, NUM_HINT):
            chunk[i] = self._sub_numbers(chunk[i], hits[i])
        if self._names_re is None:
            return chunk, hits
        sep = "\x00"
        if any(sep in t for t in chunk):  # a message with NUL can't be joined; mask it alone
            solo = [i for i, t in enumerate(chunk) if sep in t]
            self._with_context = True
            for i in solo:
                chunk[i] = self._sub_names(chunk[i], lambda pos, typ, raw, i=i: hits[i].append((typ, raw)))
            rest = [i for i, t in enumerate(chunk) if sep not in t]
        else:
            rest = range(len(chunk))
        rest = list(rest)
        # messages where the context rules may find something get the pattern with every word
        hinted = _ctx_hinted([chunk[i] for i in rest]) if self.detect_names else set()
        for part, self._with_context in (([i for k, i in enumerate(rest) if k not in hinted], False),
                                         ([i for k, i in enumerate(rest) if k in hinted], True)):
            if not part:
                continue
            starts = _offsets([chunk[i] for i in part])

            def hit(at, typ, raw, part=part, starts=starts):
                hits[part[bisect.bisect_right(starts, at) - 1]].append((typ, raw))
            joined = self._sub_names(sep.join(chunk[i] for i in part), hit)
            for i, out in zip(part, joined.split(sep)):
                chunk[i] = out
        return chunk, hits


def _window(text: str, start: int, end: int, width: int = 24) -> tuple[str, int]:
    """The words around text[start:end] inside its message (messages are joined with \x00), and where
    the match starts in them: kiwi reads a candidate in its sentence, cached per such window."""
    lo = max(text.rfind("\x00", 0, start) + 1, start - width)
    hi = text.find("\x00", end)
    hi = min(len(text) if hi < 0 else hi, end + width)
    while lo > 0 and lo < start and not text[lo - 1].isspace() and text[lo - 1] != "\x00":
        lo += 1  # start on a word boundary
    return text[lo:hi], start - lo


def _offsets(texts) -> list[int]:
    """Start of each text in "\x00".join(texts)."""
    return [0, *accumulate(len(t) + 1 for t in texts)][:len(texts)]


def _matching(texts: list[str], rx: re.Pattern) -> list[int]:
    """Indices of texts where `rx` matches: one search over the joined texts per matching text
    (after a hit, the search resumes at the next text)."""
    starts = _offsets(texts)
    joined = "\x00".join(texts)
    found, pos, n = [], 0, len(texts)
    search = rx.search
    while (m := search(joined, pos)) is not None:
        i = bisect.bisect_right(starts, m.start()) - 1
        found.append(i)
        if i + 1 >= n:
            break
        pos = starts[i + 1]
    return found


# -------------------------------------------------------------------------------------------------
# Belt and braces after the number pass: a simpler second look at the commonest shapes.
_SCAN = [
    ("전화번호", re.compile(r"(?<![0-9])(?:\+?82[\s\-.]?)?0?1[016789][\s\-.]?\d{3,4}[\s\-.]?\d{4}(?![0-9])"
                          r"|(?<![0-9])0(?:2|[3-6][1-5]|70)[\s\-.)]?\d{3,4}[\s\-.]?\d{4}(?![0-9])"
                          r"|공\s?일\s?공(?:\s?[공영일이삼사오육칠팔구]){8}")),
    # (the first six digits a date: 주문번호 2025031412345 is an order number)
    ("주민번호", re.compile(r"(?<![0-9])\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\s?-?\s?[1-8]\d{6}(?![0-9])")),
    ("카드번호", re.compile(r"(?<![0-9])\d{4}[- ]?\d{4}[- ]?\d{4}[- ]?\d{4}(?![0-9])")),
    ("계좌", re.compile(r"(?<![0-9])(?=(?:\d-?){10})\d{2,6}-\d{2,6}-\d{2,7}(?![0-9])"
                      r"|(?<!주문번호 )(?<!주문번호 : )(?<!거부 )(?<![0-9])(?!080)\d{10,}(?![0-9])(?!\.(?:jpe?g|png|gif|mp4|pdf))")),
    ("이메일", re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+\.[A-Za-z.]{2,}")),
    ("IP", re.compile(r"(?<![0-9.])\d{1,3}(?:\.\d{1,3}){3}(?![0-9])")),
    ("주소", re.compile(r"\d{1,4}\s?동\s?\d{1,4}\s?호")),
    ("여권번호", re.compile(r"(?<![A-Za-z0-9])[MSROD]\d{8}(?![0-9])")),
]


_SCAN_WORD = re.compile(r"(?<![가-힣])[가-힣]{2,7}(?![가-힣])")
_HANGUL_NAME = re.compile(r"[가-힣]{2,4}")


def _starts_with_any(word: str, names) -> bool:
    return any(word[:L] in names for L in (4, 3, 2))


def _name_leak(name: str, rest: str) -> bool:
    """`name` followed by `rest` in one word reads as that person (not 수영 하러 / 민준비)."""
    if rest in _CUES:
        return not _is_common(name) or _strong(name, rest)
    # a strong cue, then more of the word (민준이네집에서); not 기분이좋아짐, where no cue ends the name
    return any(rest[:k] in _CUES and rest[:k] not in ("아", "야") and _strong(name, rest[:k])
               for k in range(2, min(len(rest), 5) + 1))


# -------------------------------------------------------------------------------------------------
# Names a chat masks, and their review: which names the masker will replace, and why, for the user to
# check once (he knows his friends' names better than any detector).
REVIEW_COLUMNS = ["name", "count", "masked", "reason", "pseudonym", "hint", "example"]
_BOT_WORD = re.compile(r"증권|은행|카드|뱅크|페이|알림|공지|봇|[Bb]ot|BOT|톡|센터|고객|쇼핑|배송|택배|투자|보험|\d")


def auto_names(df) -> list[str]:
    """The names a chat masks without being told: every speaker, and the names in the export's title (a
    1:1 export is titled with her name). A title that is not just names (`우리 가족 방`) adds nothing:
    masking `가족` everywhere would wreck the text."""
    names = [str(s) for s in df["speaker"].dropna().unique()]
    words = [w for w in re.split(r"[,\s]+", str(df.attrs.get("title") or "")) if w]
    if words and all(re.fullmatch(r"[가-힣]{2,4}", w) for w in words):
        names += words
    return list(dict.fromkeys(n.strip() for n in names if n and n.strip()))


def names_to_mask(auto: Iterable[str], known: Iterable[str] = (), keep: Iterable[str] = ()) -> tuple[list, list]:
    """(names to mask, names taken from the export that the user kept). A keep word overrides a name the
    export brought in (a member called `java` or `you`, a bot `NH투자증권`: masking it would garble every
    message that uses the word), never a name the user listed in known_names."""
    keep = {str(w).strip() for w in keep if str(w).strip()}
    known = [str(n).strip() for n in known if str(n).strip()]
    kept = [n for n in auto if n in keep and n not in known]
    return list(dict.fromkeys([*(n for n in auto if n not in kept), *known])), kept


def name_hint(name: str) -> str:
    """Why a name taken from the export may be no person at all ('' when it looks like one)."""
    if re.fullmatch(r"[a-z]+", name):
        return "a lowercase word: if it is no one's name, keep_words stops masking it"
    if _BOT_WORD.search(name) or len(name.replace(" ", "")) > 6:
        return "looks like a bot or a business: if so, keep_words stops masking it"
    if re.fullmatch(r"[가-힣]{2,4}", name) and name not in COMMON_GIVEN and _in_dictionary(name):
        return "an ordinary word too: if it is no one's name here, keep_words stops masking it"
    return ""


def chat_key(df) -> str:
    """Pseudonym key from the chat itself: same chat -> same pseudonyms (build, preview, review), and
    secret as long as the chat is."""
    import pandas as pd
    digest = pd.util.hash_pandas_object(df[["time", "speaker", "text"]], index=False).to_numpy().tobytes()
    return hashlib.sha256(b"malbeot-dataset-v1" + digest).hexdigest()


def name_review(df, me: str, her: str | None = None, known_names: Iterable[str] = (), keep_words: Iterable[str] = (),
                key: str | None = None, example_chars: int = 80):
    """One row per candidate name in the chat's text messages: how often it was replaced, whether it will
    be masked and why (speaker, chat title, known, detected, kept word, kept word (speaker)), its
    pseudonym, a hint when a name the export brought in looks like a word or a bot, and one example
    ALREADY masked. Same names, keep words and (default) key as the dataset build. Sorted by count.
    `me` (and `her`, if given) must be speakers of the chat."""
    import pandas as pd

    speakers = [s for s in df["speaker"].dropna().unique().tolist() if str(s).strip()]
    for who, name in (("me", me), ("her", her)):
        if name is not None and name not in speakers:
            raise ValueError(f"{who}={name!r} is not a speaker of this chat; speakers: {sorted(speakers)}")
    keep = [str(w).strip() for w in keep_words if str(w).strip()]
    auto = auto_names(df)
    masked_names, kept = names_to_mask(auto, known_names, keep)
    anon = Anonymizer(known_names=masked_names, key=key if key is not None else chat_key(df), keep_words=keep)
    texts = df.loc[df["kind"] == "text", "text"].astype(str).tolist()
    out = anon.mask_many(texts)
    reasons, hints = {}, {}
    for reason, names in (("known", known_names), ("chat title", set(auto) - set(speakers)),
                          ("speaker", speakers)):  # speaker wins
        for n in names:
            if n in kept:
                continue
            compact = re.sub(r"[^\w가-힣]", "", str(n))
            forms = {str(n).strip(), compact}
            if re.fullmatch(r"[가-힣]{3,4}", compact):
                forms.add(_split_surname(compact)[1])
            reasons.update(dict.fromkeys(forms, reason))
            if reason != "known":
                hints[str(n).strip()] = name_hint(str(n).strip())
    count, example = Counter(), {}
    for t, n in Counter(texts).items():
        masked, hits = anon._cache[t]
        for typ, raw in hits:
            if typ == NAME:
                count[raw] += n
                example.setdefault(raw, masked)
    rows = [{"name": raw, "count": c, "masked": True, "reason": reasons.get(raw, "detected"),
             "pseudonym": anon.pseudonym(raw), "hint": hints.get(raw, ""), "example": example[raw][:example_chars]}
            for raw, c in count.items()]
    for w in keep:
        rx = re.compile(r"(?<![가-힣A-Za-z])" + re.escape(w) + (r"(?![A-Za-z])" if w[-1:].isascii() else ""))
        idx = [i for i, t in enumerate(texts) if rx.search(t)]
        if idx or w in kept:
            rows.append({"name": w, "count": len(idx), "masked": False,
                         "reason": "kept word (speaker)" if w in kept else "kept word", "pseudonym": "",
                         "hint": name_hint(w) if w in kept else "", "example": out[idx[0]][:example_chars] if idx else ""})
    table = pd.DataFrame(rows, columns=REVIEW_COLUMNS)
    return table.sort_values(["count", "name"], ascending=[False, True], ignore_index=True)


def veil_names(table):
    """The review table with each masked name cut to its first letter (민준 -> 민○): for a notebook whose
    saved outputs may travel further than outputs/privacy/names.csv. Kept words stay as they are."""
    out = table.copy()
    hide = out["masked"].astype(bool)
    out.loc[hide, "name"] = [n[:1] + "○" * (len(n) - 1) for n in out.loc[hide, "name"].astype(str)]
    return out


def write_review(table, path=None):
    """Write the review table as CSV (UTF-8 with BOM, so Excel shows Hangul) atomically; returns the path."""
    path = path or config.outputs() / "privacy" / "names.csv"
    with fileio.atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8-sig")
    return path


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m lib.privacy", description="Privacy tools for a KakaoTalk export.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    names = sub.add_parser("names", help="list the names the masker will replace, and why (writes outputs/privacy/names.csv)")
    names.add_argument("chats", nargs="*", help="export file(s) of one chat room (default: the profile's `chat`)")
    names.add_argument("--me", help="your name as it appears as a speaker (default: the profile's `me`)")
    names.add_argument("--her", help="the other person's speaker name (default: none required)")
    names.add_argument("--profile", help="take chat, me, known_names and keep_words from a profile (configs/*.yaml)")
    names.add_argument("--known-name", action="append", default=[], help="a name to always mask (repeatable)")
    names.add_argument("--keep-word", action="append", default=[], help="a word never to mask as a name (repeatable)")
    names.add_argument("--top", type=int, default=30, help="rows to print")
    names.add_argument("--out", help="CSV path (default outputs/privacy/names.csv)")
    args = ap.parse_args(argv)
    prof = config.profile(args.profile) if args.profile else {}
    chats = args.chats or [config.resolve(c) for c in ([prof["chat"]] if isinstance(prof.get("chat"), str)
                                                       else prof.get("chat") or [])]
    me = args.me or prof.get("me")
    if not chats or not me:
        ap.error("give CHAT... --me NAME, or a --profile that sets chat and me")
    df = kakao.read_chat(chats if len(chats) > 1 else chats[0])
    try:
        table = name_review(df, me, args.her, [*(prof.get("known_names") or []), *args.known_name],
                            [*(prof.get("keep_words") or []), *args.keep_word])
    except ValueError as e:
        ap.error(str(e))
    path = write_review(table, args.out)
    import pandas as pd
    with pd.option_context("display.max_colwidth", 60, "display.width", 200):
        print(table.head(args.top).to_string(index=False))
    print(f"\n{len(table)} candidate names ({int(table['masked'].sum())} masked) -> {path}")
    print("Check it once: add a friend the detector missed with --known-name, a word it took for a name with --keep-word.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
