"""Masks personal data in Korean chat text (names -> keyed pseudonyms, numbers/IDs -> <tokens>). Owns `Anonymizer`,
the names a chat masks (`auto_names`, `names_to_mask`, `chat_key`) and their review (`name_review`, CLI `names`).

The final scan that does not trust this module lives in lib.leakscan.

Speed: `mask_many` masks each unique string once (chats repeat a lot), skips the ~90% of messages
that carry no digit, '@', URL, known name or name-like word (one regex pass over a joined block),
and asks kiwipiepy only about a name-like word it has not seen before (cached per word).
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
from typing import Iterable

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
_GLUE = r"\s*(?:[,/·~\-.]|그\s?다음(?:에|은)?|다음(?:에|은)?|뒤에?|그리고|하고|이랑|랑|이고|에)\s*|\s+"
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
              r"[A-Za-z0-9][A-Za-z0-9._]{2,29})(?![A-Za-z0-9._@])"
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
CAND_RE = re.compile(rf"(?<![가-힣<0-9])(?:{_SUR2}|[{_SUR1}])?[{_SYL}]{{2}}[가-힣]{{0,6}}(?![가-힣])"
                     rf"(?=(?P<ttl> (?:{_SPACED_TITLE})|(?P<own> (?:{_OWNED}))(?![가-힣])))?")
# Form-like text names whoever follows the label: 성명: 박서윤, 예금주 문하람으로, 받는분 성함 탁재원
_FORM_CUE = (r"성명|이름|예금주|받는\s?분|받는\s?사람|성함|수령인|신청자|예약자|보내는\s?분|입금자명?|명의|주문자|"
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


_ID_WORDS = re.compile(r"생년|여권|[Pp]assport|PASSPORT|성명|이름|예약자|신분|영문|탑승|승객|명의|[Nn]ame\b|NAME\b|카드")


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
    if _LATIN_PERSON_AFTER.match(after):
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
        if (level >= 1 and (given in COMMON_GIVEN or (cue and (_known_given(given) or not _is_word(given))))) \
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
        self._known_forms = set(forms)
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
        fake = next((c for k in range(len(pool)) if (c := pool[(i + k) % len(pool)]) != given
                     and c not in self._reserved and c not in self._known_fakes), pool[0])
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
        """Replace names in `text` (one message or a \\x00-joined block); hit(pos, type, raw) records."""
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
            return candidate(m, m.group(0), m.start())

        def form(m):
            word, at = m.group("fn"), m.start("fn")
            sur, given = _split_surname(word) if len(word) >= 3 else ("", word)
            if len(given) == 2 and _namey(given) and word not in _STOP | self.keep and not _in_dictionary(word) \
                    and given[-1] not in _NOT_NAME_END and not _verb_first(word) \
                    and (sur or (not _is_common(word) and _nominal(word, word))):  # not 이름이라고, 이름을 여려개
                # (여러 개), 이름 남겨도 (남기 + 어도)
                hit(at, NAME, word)
                return m.group("fc") + self.pseudonym(word)
            return m.group("fc") + candidate(m, word, at)  # 이름이 뭐야: not a name, but look as usual

        def latin(m):
            raw = m.group("lat")
            lo = m.string.rfind("\x00", 0, m.start()) + 1
            if raw in self.keep or not _latin_name(re.split(r"[ \-]", raw), m.string[lo:m.start()], m.string[m.end():m.end() + 8]):
                return raw
            hit(m.start(), NAME, raw)
            return self.pseudonym(raw)

        def candidate(m, word, at):
            name, how = self._name_decision(word) or (None, None)
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
                name = name if ok else None
            if name is None and m.groupdict().get("ttl"):
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
            if name is not None and (name in self.keep or word in self.keep):
                name = None  # the user said this word is not a name
            if name is None:  # maybe a known name inside (우리민지)
                if self._known_re is None:
                    return word
                return self._known_re.sub(lambda k: known(k, at), word)
            hit(at, NAME, name)
            return self.pseudonym(name) + word[len(name):]
        return self._names_re.sub(repl, text) if self._names_re is not None else text

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
        ids = {raw.lstrip("@") for t in new for typ, raw in self._cache[t][1] if typ == "아이디"} - self._found_ids
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
        rx = re.compile(r"(?<![가-힣<0-9])(?P<nm>" + _trie_pattern(names) + r")(?P<rest>[가-힣]{0,6})(?![가-힣])")
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
        rx = re.compile(r"(?<![A-Za-z0-9._@])@?(?:" + _trie_pattern(ids) + r")(?![A-Za-z0-9_])")
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
            for i in solo:
                chunk[i] = self._sub_names(chunk[i], lambda pos, typ, raw, i=i: hits[i].append((typ, raw)))
            rest = [i for i, t in enumerate(chunk) if sep not in t]
        else:
            rest = range(len(chunk))
        rest = list(rest)
        if not rest:
            return chunk, hits
        starts = _offsets(chunk[i] for i in rest) if len(rest) < len(chunk) else _offsets(chunk)

        def hit(at, typ, raw):
            hits[rest[bisect.bisect_right(starts, at) - 1]].append((typ, raw))
        joined = self._sub_names(sep.join(chunk[i] for i in rest), hit)
        for i, out in zip(rest, joined.split(sep)):
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
    ("주민번호", re.compile(r"(?<![0-9])\d{6}\s?-?\s?[1-8]\d{6}(?![0-9])")),
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
