"""Word tables for lib.sample: slot values, topics (her sentence stems, his clauses), endings, habits, scripts.

Data only; lib.sample composes messages from it. Template syntax: {slot} = a SLOTS value, [a|b|c] = one
of the choices; a stem's class names its ending set (HIS_END / HER_END), so one stem gives many sentences.
"""
from __future__ import annotations

SLOTS = {
    "food": ["김치찌개", "된장찌개", "돈까스", "마라탕", "쌀국수", "제육볶음", "샐러드", "떡볶이", "초밥", "라멘", "부대찌개",
             "비빔밥", "파스타", "햄버거", "칼국수", "순대국", "연어덮밥", "김밥", "우동", "냉면", "닭가슴살", "포케", "카레",
             "짬뽕", "국밥", "샌드위치", "수제비", "오므라이스", "규동", "뼈해장국"],
    "dinner": ["삼겹살", "치킨", "피자", "곱창", "족발", "닭갈비", "회", "짜장면", "양꼬치", "훠궈", "보쌈", "타코", "스테이크",
               "감자탕", "닭볶음탕", "초밥"],
    "place": ["연남동", "성수", "망원", "합정", "을지로", "익선동", "한남동", "서촌", "북촌", "문래", "잠실", "여의도", "광화문",
              "한강", "용산", "삼청동"],
    "cafe": ["블루보틀", "스타벅스", "어니언", "카페 레이어드", "프릳츠", "투썸", "메가커피", "이디야", "폴 바셋"],
    "movie": ["파묘", "듄", "인사이드 아웃", "범죄도시", "위키드", "미키17", "베테랑", "소방관", "하얼빈"],
    "drama": ["선재 업고 튀어", "눈물의 여왕", "폭싹 속았수다", "흑백요리사", "나의 아저씨", "슬기로운 의사생활"],
    "singer": ["아이유", "데이식스", "뉴진스", "성시경", "잔나비", "악뮤", "태연", "wave to earth"],
    "item": ["운동화", "후드티", "에어팟", "가방", "패딩", "텀블러", "우산", "니트", "모자", "이어폰"],
    "trip": ["제주도", "부산", "강릉", "여수", "경주", "속초", "오사카", "후쿠오카", "대만", "전주"],
    "time": ["6시", "6시 반", "7시", "7시 반", "8시", "12시", "1시", "2시 반", "3시"],
    "day": ["토요일", "일요일", "금요일 저녁", "다음 주 토요일", "이번 주말", "다음 주 일요일"],
    "weather": ["비", "눈", "황사", "미세먼지", "소나기"],
    "exercise": ["헬스", "필라테스", "러닝", "클라이밍", "수영", "요가", "테니스", "배드민턴"],
    "n": ["두", "세", "네", "다섯"],
    "hour": ["7시", "6시 반", "7시 반", "8시", "6시"],
    "boss": ["팀장님", "부장님", "과장님", "실장님"],
}

# His endings (반말). Class -> (statement endings, question endings); the stem carries everything before.
HIS_END = {
    "past": (["어", "음", "다", "지", "는데", "어어"], ["어?", "냐", "음?", "니?", "어??"]),     # 먹었-
    "eo": (["어", "음", "다", "지", "는데"], ["어?", "냐", "음?"]),                             # 있- 재밌- 먹-
    "a": (["아", "음", "다", "지", "은데"], ["아?", "냐", "음?"]),                              # 좋- 괜찮- 같-
    "ha": (["해", "함", "하다", "하지", "한데", "하네"], ["해?", "하냐", "함?"]),               # 피곤- 심심-
    "adj": (["다", "네", "당", "다 진짜", "네 ㄹㅇ"], ["지?", "냐"]),                          # 부럽- 맛있겠-
    "ida": (["야", "다", "지", "네"], ["야?", "냐"]),                                         # 출근 중이-
    "geo": (["야", "임", "다", "야 아마"], ["야?", "냐", "임?"]),                               # 먹을 거-
    "will": (["게", "께", "겡", "게 ㅇㅇ"], ["까?", "까", "까??"]),                             # 연락할-
    "lets": (["자", "쟈", "자 ㄱㄱ", "자!"], ["자?"]),                                       # 가- 먹- 보-
    "want": (["래", "래 ㅇㅇ", "래!"], ["래?", "래??"]),                                        # 먹을-
    "none": ([""], ["?"]),
}
# Her endings (존댓말): statement, question.
HER_END = {
    "past": (["어요", "네요", "더라고요", "거든요"], ["어요?", "나요?", "죠?"]),
    "eo": (["어요", "네요", "더라고요", "거든요"], ["어요?", "나요?"]),
    "a": (["아요", "네요", "더라고요", "거든요"], ["아요?", "나요?"]),
    "ha": (["해요", "하네요", "하더라고요", "하거든요"], ["해요?", "하나요?"]),
    "yo": (["요", "요~", "요.."], ["요?"]),
    "plan": (["래요?", "까요?", "래요??"], ["래요?", "까요?"]),
    "none": ([""], [""]),
}

# Topics. Each thread pairs what she says (one of its stems) with what he may answer (his clauses), so a
# reply fits the message it answers. Items are separated by " ; "; "stem@class" takes an ending of that
# class, "@class?" a question ending; an item without "@" is used as written. "back": his questions back;
# "more": her second sentence (often a question back); "mood": which REACT words he starts with.
TOPIC_SPECS = {
    "morning": {"mood": "plain", "threads": [
        ("좋은 아침이에요 오빠, [잘 잤|푹 잤]@past? ; 오빠 굿모닝이에요, 잘 잤@past?",
         "[응|웅] [잘 잤어|푹 잤어|완전 푹 잤음] ; [아니|아니야] [잠 설쳤어|잘 못 잤어|세 시간 잤나] ; [나|난] [방금|지금|이제] 일어났@past"),
        ("오빠 일어났@past? ; 오빠 출근 준비 하고 있@eo?",
         "[방금|지금|이제] 일어났@past ; [지금|방금] [지하철|버스] 탔@past ; [출근|회사 가는] 중이@ida ; [늦잠 잤|지각할 뻔했]@past ; [씻는|옷 입는] 중이@ida"),
        ("오늘 아침 [진짜|너무] 추워요, 옷 따뜻하게 입고 나가@yo ; 오늘 {weather} 온대요, 우산 꼭 챙겨@yo",
         "[패딩|목도리] 입었@past ; [우산|패딩] [챙겼|놓고 왔]@past ; [오늘|아침] [개|완전|넘] 춥@adj ; [알겠어|ㅇㅋ] 너도 [따뜻하게 입어|우산 챙겨]"),
        ("어제 늦게 잤더니 [너무|진짜] 졸려@yo ; 아침부터 [너무|진짜] 피곤@ha",
         "나도 졸려 죽겠@adj ; 커피 [마셔|사 먹어|수혈해] ; [오늘은|이따] 일찍 자@lets ; 몇 시에 잤@past?"),
        ("방금 회사 도착했@past ; 저 지금 [지하철|버스] 타러 가@yo",
         "[오|와] 빠르@adj ; [나도|나도 거의] 다 왔@past ; [나|난] 아직 [집|지하철]이@ida ; [조심히|잘] 가"),
        ("아침에 {food} 먹었@past ; 오늘 아침은 [빵|샐러드] 먹었@past",
         "[아니|난] [굶었|못 먹었]@past ; [빵으로|편의점에서] 때웠@past ; 아침은 [사치야|사치지|안 먹어] ; [오|와] 맛있겠@adj")],
        "back": "[너는|넌] [잘 잤|아침 먹었|회사 도착했]@past ; [너는|넌] 오늘 [몇 시에 끝나|일찍 끝나]",
        "more": "오빠는요? ; 오늘도 화이팅해요 ; 오늘 하루도 힘내요 ; 오빠는 오늘 몇 시에 끝나요? ; 저는 [방금|아까] 일어났어요 ; 저는 벌써 회사 도착했어요"},
    "lunch": {"mood": "good", "threads": [
        ("오빠 점심 먹었@past? ; 오빠 밥은 먹었@past?",
         "[나|난] {food} 먹었@past ; [아직 못|아직 안] [먹었어|먹음] ; [이따|좀 있다] {food} 먹을 거@geo ; [편의점|편의점에서] [김밥|도시락] 먹었@past ; "
         "[회의 때문에|일 때문에] 늦게 먹었@past"),
        ("오늘 점심 뭐 먹을지 고민이에@yo ; 점심 메뉴 추천해 줘@yo",
         "{food} [먹어|어때|먹어 무조건] ; [나랑|나도] {food} 먹@lets ; [국물|매운 거|면] 먹어 ; [그냥|걍] 회사 앞에서 먹어"),
        ("회사 앞에 {food} 집 새로 생겼는데 [진짜|너무] 맛있@eo ; 점심에 {food} 먹었는데 [진짜|완전] 맛있었@past",
         "[오|와] 맛있겠@adj ; [다음에|담에|주말에] 같이 가@lets ; [거기|그 집] 얼마@ida? ; [나도|나도 진짜] {food} 먹고 싶@adj ; [거기|그 집] 가 봤@past"),
        ("점심 먹고 {cafe} 왔@past ; 점심 먹고 {cafe}에서 라떼 마시는 중이에@yo",
         "[나도|나도 진짜] 커피 마시고 싶@adj ; [오|와] 부럽@adj ; [나|나도] 아아 [사 줘|마시고 싶다] ; 여유 있@eo"),
        ("오늘은 너무 바빠서 점심을 못 먹었@past ; 오늘 점심 [건너뛰었|거르게 됐]@past",
         "[헐|아] 밥은 먹어야지 ; [편의점이라도|빵이라도] 가 ; [이따|저녁에] 맛있는 거 먹@lets ; 배고프겠@adj"),
        ("{boss}이 {food} 사주셔서 맛있게 먹었@past",
         "좋은 {boss}이@ida ; [부럽|좋겠]@adj ; [나도|나도 좀] 사 줘 ; [우리|우리 팀] {boss}은 안 사 주는데"),
        ("오빠 회사 근처에 맛집 있@eo?",
         "{food} 집 하나 있@eo ; [없어|딱히 없어] 다 별로야 ; [다음에|담에] 데려갈@will ; [회사 앞|거기] {food} 집 괜찮@a")],
        "back": "[너는|넌] 뭐 먹었@past ; [맛있었|괜찮았|배불렀]@past ; [누구랑|혼자] 먹었@past",
        "more": "오빠는요? ; 오빠는 뭐 먹었어요? ; 오빠도 밥 꼭 챙겨 먹어요 ; 오빠는 점심 뭐 먹을 거예요? ; 저는 [방금|아까] {food} 먹었어요 ; "
                "저는 오늘 {food} 먹으려고요"},
    "work": {"mood": "bad", "threads": [
        ("오늘 회의가 {n} 개나 있어서 정신이 없@eo ; 오늘 일이 [너무|진짜] 많@a ; 보고서 쓰느라 [머리 아파|정신 없어]@yo",
         "고생한다 ; [힘내|화이팅] ; [나도|나] [오늘|요즘] [완전|개|진짜] [바빠|바쁨|바쁘다] ; 조금만 [버텨|참아] ; [끝나고|퇴근하고] 맛있는 거 먹@lets ; "
         "회의만 {n} 개 했@past"),
        ("오빠는 오늘 일 많@a? ; 오빠 오늘 [바빠|많이 바빠]@yo?",
         "[나도|나] [완전|개] [바빠|바쁨] ; [아니|오늘은] 널널@ha ; [오늘|이번 주] [야근각|야근 확정]이@ida ; {boss}이 또 [일 줬|회의 잡았]@past ; "
         "[그럭저럭|그냥저냥] 할 만@ha"),
        ("퇴근하고 싶@eo ; 시간이 [너무|진짜] 안 가@yo",
         "[퇴근하고|집 가고] 싶@adj ; [아직|이제] [3시|4시|4시 반]밖에 안 됐@past ; [조금만|한 시간만] 버티면 [돼|됨|된다] ; 나도 [탈출하고 싶다|집 가고 싶다]"),
        ("방금 발표 끝났는데 생각보다 잘 된 것 같@a ; 오늘 발표 [무사히|잘] 끝났@past",
         "[잘했|고생했|수고했]@past ; [역시|내가 뭐랬어] 잘할 줄 알았@past ; [오|와] 대박 [축하해|멋있다] ; 오늘 [맛있는 거|치킨] 먹@lets"),
        ("오늘 야근할 것 같아요, 저녁 먼저 먹어@yo ; 오늘 야근이라 늦게 끝날 것 같@a",
         "몇 시까지야? ; 끝나면 [연락해|톡해] ; [데리러|마중] 갈@will? ; 저녁 [꼭|대충이라도] 먹어"),
        ("{boss}이 오늘 기분이 좋으셔서 다행이에@yo ; 새로 온 인턴이 일을 [너무|진짜] 잘해@yo",
         "다행이@ida ; [오|와] 운 좋@a ; 우리 팀도 [보내 줘|한 명 줘] ; 좋겠@adj")],
        "back": "[너는|넌] 오늘 [몇 시에 끝나|야근해|많이 바빠|언제 퇴근해] ; [발표|회의] 어땠@past",
        "more": "오빠는 오늘 어때요? ; 오빠도 힘내요 ; 오빠는 몇 시에 끝나요? ; 저는 오늘 회의만 {n} 개예요 ; 오늘은 [진짜|너무] 정신없어요"},
    "evening": {"mood": "plain", "threads": [
        ("오빠 퇴근했@past? ; 오빠 집에 가고 있@eo?",
         "[방금|이제] [퇴근했|나왔|회사에서 나왔]@past ; [아직|아직도] [회사야|회사임|회사다 ㅠ] ; [집 가는 중이|지하철이|버스 안이]@ida ; [거의|이제 곧] 도착@ha"),
        ("저녁은 뭐 먹을 거예요? ; 오늘 저녁 뭐 먹@eo?",
         "[나|난] {dinner} 먹을@want ; [오늘은|오늘] {dinner} [땡긴다|땡겨|땡기네] ; [배달|배민] 시킬@will ; [라면|컵라면] 먹을 거@geo ; "
         "[몰라|고민 중이야] 추천 좀"),
        ("오늘 저녁에 {dinner} 먹을@plan ; 갑자기 {dinner} [너무|진짜] 먹고 싶@eo",
         "[좋아|콜|ㅇㅋ] {dinner} [가자|ㄱㄱ] ; [오늘은 안 돼|오늘 좀 늦어] 내일 먹@lets ; {time}에 [볼까|보자] ; [나도|나도 완전] 땡겼@past"),
        ("집에 도착했는데 오늘 진짜 피곤했@past ; 오늘 하루 [너무|진짜] 길었@past",
         "[고생했|수고했]@past ; [얼른|빨리] [쉬어|씻고 쉬어|누워] ; 나도 방금 [왔어|도착했어] ; 오늘은 일찍 쉬@lets ; [밥은|저녁은] 먹었@past?"),
        ("오늘 {exercise} 다녀왔@past ; 오늘 {exercise} [너무|진짜] 힘들었@past",
         "또 갔@past? ; [멋있|부지런하]@adj ; 나도 [가야 되는데|가고 싶은데] ; [내일|이번 주에] 같이 가@lets ; 근육통 [조심해|오겠다]"),
        ("퇴근길에 비가 [갑자기|너무 많이] 와서 다 젖었@past",
         "괜찮@a? ; 우산 없었@past? ; [감기 조심해|따뜻한 물로 씻어] ; 데리러 갈 걸 그랬@past"),
        ("엄마가 반찬 보내주셔서 저녁 해 먹으려고@yo",
         "좋겠@adj ; 나도 먹고 싶@adj ; 뭐 보내 주셨@past? ; [어머님|어머니] 최고다")],
        "back": "[너는|넌] [저녁 뭐 먹어|저녁 먹었어|집 도착했어|아직 회사야|몇 시에 끝났어]",
        "more": "오빠는요? ; 오빠는 저녁 먹었어요? ; 오빠는 오늘 어땠어요? ; 저는 [방금|이제] 집 도착했어요 ; 저는 오늘 {dinner} 먹으려고요"},
    "night": {"mood": "plain", "threads": [
        ("오빠 뭐 @ha? ; 지금 뭐 하고 있@eo?",
         "[나|난] [유튜브 보는|게임하는|누워서 폰 보는|빨래 개는] 중이@ida ; [그냥|걍] 누워 있@eo ; [씻고|샤워하고] 나왔@past ; [너|니] 생각@ha"),
        ("저는 {drama} 보고 있@eo ; 요즘 {drama} [다시|정주행하면서] 보고 있@eo",
         "[그거|{drama}] 재밌@eo? ; [나도|나도 그거] 보고 있@eo ; [몇 화까지|어디까지] 봤@past? ; [나도|나] [주말에|이따] 볼@will"),
        ("오늘 하루 어땠@past? ; 오늘 별일 없었@past?",
         "[그냥|뭐] 그랬@past ; [오늘|오늘 하루] [완전|개|진짜] [길었|빡셌|괜찮았|재밌었]@past ; [별일|별거] 없었@past ; "
         "[너랑|너 목소리] [통화해서|들어서] 좋았@past"),
        ("내일 몇 시에 일어나@yo?",
         "[내일|낼] {hour}에 일어나야 [돼|됨|된다] ; [알람|알람 다섯 개] 맞춰 놨@past ; [몰라|아직 몰라] [늦잠 잘 수도|일찍 나가야 될 수도]"),
        ("잠이 안 와@yo ; 오늘은 이상하게 잠이 안 오네@yo",
         "[나도|나] [안 졸려|잠이 안 와|눈이 말똥말똥해] ; [전화할|통화할]@will? ; [따뜻한 우유|캐모마일] 마셔 ; 폰 [그만 봐|내려놔]"),
        ("주말에 뭐 할지 생각해 봤@past?",
         "{place} 가@lets ; [집에서|그냥] 쉬@lets ; 아직 생각 안 해 봤@past ; 같이 [정하|찾아보]@lets ; [너|니가] 하고 싶은 거 하@lets"),
        ("오늘 {friend}이랑 통화했는데 다음 달에 결혼한대@yo",
         "진짜@ida? ; [축하한다고|축하해 준다고] 전해 줘 ; [빠르다|벌써?|언제래?] ; 결혼식 같이 가@lets")],
        "back": "[너는|넌] [뭐 해|뭐 보고 있어|오늘 어땠어|내일 몇 시에 나가|안 졸려]",
        "more": "오빠는 뭐 해요? ; 오빠는요? ; 오빠 오늘 고생 많았어요 ; 저는 [이제|방금] 씻고 누웠어요"},
    "plans": {"mood": "good", "threads": [
        ("{day}에 {place} 갈@plan ; {day}에 {place}에 가 보고 싶은 카페가 있는데 같이 갈@plan",
         "[좋아|콜|ㅇㅋ] [가자|ㄱㄱ] ; [{place}|거기] 가@lets ; [거기|그 동네] 맛집 많@a ; {time}에 보@lets ; "
         "[그날은|{day}은] [안 돼|약속 있어|출근해야 돼]"),
        ("{movie} 개봉했대요, {day}에 볼@plan ; {movie} 평점 [좋더라고요|엄청 높대요], 같이 볼@plan",
         "[그거|{movie}] 보@lets ; [그거|{movie}] 재밌대 ; [예매|예약]할@will ; [팝콘|나초] 큰 걸로 먹@lets"),
        ("{day}에 {friend}이랑 {friend2}이 같이 밥 먹자는데 괜찮@a?",
         "[나는|난] 다 좋아 ; [응|웅] 괜찮@a ; 재밌겠@adj ; [그날은|{day}은] [좀 애매해|약속 있어]"),
        ("다음 달 여행 어디로 갈지 정했@past? ; {trip} 가는 비행기표 [싸게|특가로] 떴@past",
         "{trip} [어때|가자|가고 싶다] ; [아직 못 정했어|아직] 같이 찾아보@lets ; [바로|당장] 예매할@will? ; [휴가|연차] 내 볼@will"),
        ("{day} 몇 시에 만날@plan ; 우리 {day}에 몇 시에 볼@plan",
         "{time}에 보@lets ; {time} 어때 ; [너|니] 편한 시간 ; [내가|내가 그쪽으로] 데리러 갈@will"),
        ("이번 주말에 비 온대요, 실내 데이트 할@plan",
         "[전시회|방탈출|보드게임 카페|볼링] [어때|가자|ㄱㄱ] ; 영화 보@lets ; [집에서|우리 집에서] 영화 보@lets"),
        ("우리 {day}에 {place}에서 {dinner} 먹을@plan",
         "[콜|좋아] ; [내가|내가 다] [알아볼|찾아볼|예약할]@will ; 거기 줄 [길던데|엄청 길어]")],
        "back": "[몇 시가|어디가] 좋@a ; [너는|넌] 어디 가고 싶@eo ; [누구누구|몇 명] 오는 거@ida",
        "more": "오빠 생각은 어때요? ; 오빠 시간 괜찮아요? ; 오빠가 정해요 ; 저는 다 좋아요 ; 저 그날 시간 [괜찮아요|비어요]"},
    "date": {"mood": "good", "threads": [
        ("오늘 데이트 너무 좋았어요, 데려다줘서 고마워@yo ; 오늘 [너무|진짜] 재밌었@past",
         "[나도|나도 완전] 좋았@past ; [다음에|담에] 또 가@lets ; [오늘|오늘 하루] [완전|진짜] 재밌었@past ; [집|집에] 잘 들어갔@past?"),
        ("오늘 먹은 {dinner} 진짜 맛있었@past",
         "[거기|그 집] 맛집이@ida ; [다음엔|담엔] 내가 살@will ; 또 가@lets ; [ㅇㅈ|인정]"),
        ("{place} 사람 너무 많았죠? 다리 아파@yo",
         "[다리|발] [아프|아파 죽겠]@adj ; 완전 많았@past ; 그래도 재밌었@past ; [다음엔|담엔] 한적한 데 가@lets"),
        ("오빠 오늘 입은 옷 잘 어울렸@past",
         "[진짜?|진짜로?] 또 입어야지 ; [너|니가] 골라준 거잖아 ; [너도|오늘] [이뻤|귀여웠]@past"),
        ("집 도착했어요, 오빠도 조심히 들어가@yo",
         "[나|난] [거의 다 왔어|방금 도착했어|집 앞이야|이제 집이야] ; [오늘|오늘 하루] 고마웠@past ; 얼른 [씻고 쉬어|쉬어]"),
        ("오늘 찍은 사진 [너무|진짜] 잘 나왔@past",
         "[사진|그 사진] 나도 보내 줄 거@geo? ; [나|난] 저장@ha ; [두 번째|마지막] 거 [완전 좋다|제일 잘 나왔다]")],
        "back": "[집|집에] 잘 들어갔@past ; 다음엔 어디 갈@will",
        "more": "오빠도 얼른 쉬어요 ; 다음에 또 가요 ; 오빠 고마워요"},
    "random": {"mood": "news", "threads": [
        ("오빠 {singer} 노래 알아@yo? ; 요즘 {singer} 노래 계속 듣고 있@eo",
         "[몰라|처음 들어] ; [나도|나도 그거] 알아 ; 들어 볼@will ; [제목|노래 제목] 뭐@ida? ; [나|난] {singer} [좋아해|콘서트 가고 싶다]"),
        ("회사 언니가 결혼한다고 청첩장 줬@past",
         "축하드린다고 해 ; 언제@ida? ; [요즘|요즘에] 결혼 많이 [하네|한다|하더라]"),
        ("{cafe}에서 신메뉴 마셔 봤는데 별로였@past",
         "[아 그래?|헐 왜?] ; [돈|돈 진짜] 아깝@adj ; [원래|그냥 원래] 먹던 거 먹어 ; 뭐였@past?"),
        ("{friend}이가 고양이 입양했대@yo",
         "[부럽|좋겠|귀엽겠]@adj ; [사진|사진 좀] 보여 달라고 해 ; [이름|고양이 이름] 뭐래? ; 나도 키우고 싶@adj"),
        ("요즘 {drama} 너무 재밌@eo ; 오빠도 {drama} 봐@yo",
         "[몇 화까지|어디까지] 나왔@past? ; [주말에|이따] 볼@will ; [그거|{drama}] 다들 보더라 ; [나도|나도 그거] 보고 있@eo"),
        ("다음 주에 건강검진 받는데 금식해야 돼서 걱정이에@yo",
         "[힘내|화이팅] ; [끝나고|검진 끝나고] 맛있는 거 먹@lets ; [몇 시에|언제] 가? ; [아무것도|물도] 못 먹@eo?"),
        ("{item} 사려고 하는데 같이 골라 줘@yo",
         "[검은색|흰색|회색]이 [낫지|무난하지|제일 나아] ; [링크|사진] 보내 봐 ; [나도|나] {item} 사고 싶@adj ; [주말에|이번 주에] 같이 보러 가@lets"),
        ("엄마가 {food} 만들어 주셨@past",
         "[어머님|어머니] 요리 [잘하시네|최고다] ; 맛있겠@adj ; 나도 먹고 싶@adj"),
        ("오늘 미세먼지 진짜 심@ha ; 오늘 황사 [너무|진짜] 심@ha",
         "마스크 [꼭 써|챙겨] ; [나가지 마|밖에 나가지 마] ; [공기청정기 틀어|창문 닫아]")],
        "back": "[너는|넌] [어때|어떻게 생각해|뭐가 좋아]",
        "more": ""},
    "care": {"mood": "bad", "threads": [
        ("오빠 오늘 목소리가 안 좋던데 감기 걸린 거 아니에요? ; 오빠 [감기|몸살] 기운 있@eo?",
         "[아니야|아냐] 괜찮@a ; [좀|약간] 그런 거 같@a ; [목이|머리가] [좀|살짝] 아프@adj ; [콧물|기침] [좀|살짝] 나"),
        ("약은 먹었@past? ; 약 꼭 챙겨 먹@eo",
         "[약|감기약] [먹었|아직 안 먹었]@past ; [이따|자기 전에] 먹을@will ; [걱정 마|걱정하지 마] ; [까먹었|깜빡했]@past"),
        ("요즘 너무 무리하는 것 같아요, 좀 쉬어@yo",
         "[알겠어|ㅇㅋ] 쉴@will ; [이번 주만|조금만] 버티면 [돼|됨|된다] ; [너도|니도] 무리하지 마"),
        ("오늘 힘든 일 있었@past? ; 오빠 말투가 좀 다운된 것 같@a",
         "[그냥|좀] 피곤해서 그래 ; [아니야|아냐] 괜찮@a ; 회사 일 때문에 [좀|살짝] 그래 ; [너랑|너 목소리] 들으니까 [좋다|괜찮아졌어]"),
        ("오빠 요즘 잠은 충분히 자@yo?",
         "[응|웅] [푹 자|많이 자] ; [아니|아니야] 요즘 [좀 못 자|잠을 못 자] ; [너|니] 생각 하느라 못 자")],
        "back": "[너는|넌] [괜찮아|안 아파|요즘 괜찮아]",
        "more": "오빠 꼭 쉬어요 ; 아프면 꼭 말해요 ; 오빠 걱정돼요"},
    "photo": {"mood": "good", "threads": [  # what he says about a photo or video she sends (script steps "me@")
        ("",
         "[맛있겠|이쁘|분위기 좋|귀엽]@adj ; [나도|나도 진짜] [가고 싶|먹고 싶]@adj ; [잘 나왔|잘 찍었]@past ; [거기|여기] 어디@ida? ; [나|난] 저장@ha ; "
         "[두 번째|마지막] 거 [완전 좋다|제일 잘 나왔다] ; [미쳤|개웃기]@adj ; [이거|이건] [완전|진짜] 너@ida")],
        "back": "[누가|언제] 찍어 줬@past ; [거기|여기] 또 갈@will",
        "more": ""},
}


def _items(spec: str, question: bool = False) -> list[tuple[str, str, bool]]:
    """'stem@class ; stem@class? ; text' -> [(stem, class, question), ...]"""
    out = []
    for item in filter(None, (x.strip(" ") for x in spec.split(" ; "))):
        stem, _, cls = item.rpartition("@") if "@" in item else (item, "", "none")
        out.append((stem, cls.rstrip("?"), question or item.endswith("?")))
    return out


TOPICS = {name: {"mood": t["mood"], "back": _items(t["back"], question=True), "more": _items(t["more"]),
                 "threads": [(_items(her), _items(me)) for her, me in t["threads"]]}
          for name, t in TOPIC_SPECS.items()}
TOPICS_FOR = {"morning": ["morning", "random", "care"], "lunch": ["lunch", "work"], "work": ["work", "plans", "care", "random"],
              "evening": ["evening", "plans", "care", "random"], "night": ["night", "plans", "random"],
              "date night": ["date", "night"]}

REACT = {"good": ["오", "와", "대박", "오올", "오 좋다", "개좋다", "굿", "오 대박"],
         "bad": ["헐", "아", "에고", "헉", "아이고", "아 ㅠ", "헐 ㅠ", "ㅠㅠ"],
         "news": ["헐", "진짜?", "대박", "와", "오", "헐 진짜?", "레알?"],
         "plain": ["아", "오", "음", "ㅇㅇ", "응", "웅", "아하", "그치", "ㅇㅋ"]}
HEADS = {"나", "난", "나도", "너는", "넌", "오늘", "요즘", "아", "근데", "진짜", "아니", "그럼", "이따", "내일", "낼", "솔직히", "그니까",
         "오늘은", "거기", "그거", "다음에", "담에", "약간", "막", "뭔가", "음"}  # words he may send as a bubble of their own
FILLERS = ["아", "아니", "근데", "진짜", "아 근데", "솔직히", "그니까", "음", "아 진짜"]
EXTRAS = [("[보고 싶|배고프|졸리|심심하|피곤하]", "adj"), ("[이따|좀 있다|끝나고] [전화할|연락할|톡할]", "will")]
DECOR = [" ㄹㅇ", " 진짜", "!!", "~~", " ㅇㅇ", "..", "~", "!", " 완전", "ㅠ"]  # his bubble ends
ACKS = ["응응", "ㅇㅇ", "웅", "알겠어", "좋아", "ㅇㅋ", "굿", "그치", "그래", "오키", "ㅇㅋㅇㅋ", "알겠음"]
ACK_TAILS = ["이따 봐", "사랑해", "보고 싶다", "이따 연락할게", "이따 톡해", "나중에 얘기해", "조심히 가"]
EMOJI = ["😂", "👍", "❤️", "🥺", "😋", "😴", "🔥", "🙏", "🤣", "😍", "😎", "🙄", "😭", "✌️", "🤔", "😆"]
TYPOS = {"됐": "됬", "어떡": "어떻", "괜찮": "괜춘", "진짜": "진쨔", "그래": "그랭", "뭐": "머", "나도": "나두", "좋아": "조아",
         "했어": "햇어", "없어": "업어", "있어": "잇어", "먹었": "먹엇", "갔": "갓", "거야": "거얌"}
STRAY_JAMO = ["ㅏ", "ㅓ", "ㅣ", "ㄴ", "ㅁ"]

# Her follow-up after his reply, and her answers when he opens a session.
HER_REACT = ["[알겠어요|알겠어요 오빠|웅 알겠어요]", "좋아요", "진짜요? 다행이에요", "그럼 그렇게 해요", "[너무 좋아요|완전 좋아요]",
             "[진짜요?|정말요?]", "오빠 고마워요", "그래요? 몰랐어요", "오빠 최고예요", "[그쵸|그러니까요]? 저도 그렇게 생각했어요",
             "웅 그래요", "헐 대박이에요", "[다행이에요|오빠 다행이에요]", "[맞아요|그니까요]"]
HER_CLOSE = ["이따 봐요", "그럼 이따 연락해요", "오빠도 힘내요", "저도 보고 싶어요", "이따 전화해요", "조심히 다녀와요"]

# Time habits (his, in his style). The regexes say what counts as one (tests/test_sample.py); each of
# these phrases is also one of lib.timefit's, which the evaluation scores.
MORNING_RX = r"굿모닝|좋은 아침|모닝|잘 잤|푹 잤|일어났"
NIGHT_RX = r"잘 ?자|굿밤|굿나잇|꿈|잘게|자야겠|누울게|잘 시간"
SORRY_RX = r"미안|이제 봤|지금 봤|못 봤"
GREETING = ["굿모닝", "굿모닝~", "좋은 아침", "모닝", "굿모닝 굿모닝", "굿모닝 ☀️"]
GREETING_Q = [("[잘 잤|푹 잤|일어났]", "past"), ("[오늘도|오늘] 출근", "ha")]
SIGNOFF = [("[나도|나도 이제|난 이제] [잘게|자야겠다|누울게]", "none"), ("[잘 자|잘자|굿밤|굿나잇|푹 자|꿈에서 봐|좋은 꿈 꿔|꿈나라 가자]", "none"),
           ("[내일|낼] [또 연락할게|아침에 톡할게|일찍 일어나야 돼]", "none")]
# How often the habits show (lib.sample); the hour of his answer decides which opener
P_MISS = 0.3               # share of non-morning sessions that end with a message he does not see
NUDGE_AFTER = (120, 300)   # minutes until she writes again when he has not answered (he then apologises)
LAST_NUDGE = 23 * 60 + 30  # ... but not after 23:30: later, she waits for the morning
P_GREET = 0.9              # his first answer of a morning opens with good morning
EARLY, P_WAKING = range(5, 11), 0.6    # a morning answer opens with waking up
LATE, P_WINDING_DOWN = (22, 23, 0, 1, 2), 0.7  # a late answer opens with winding down
WAKING = ["[나 방금|난 이제 막|나 아까] 일어났[어|음|다]", "[어제|어젯밤에] [잘|푹] 잤어?", "[오늘|아침에] [일찍|겨우] 일어났[어|다|음]",
          "일어났는데 [너 생각나더라|너 생각났어]", "[지금|방금] 일어났는데 [졸려|정신없다|벌써 피곤하다]"]
WINDING_DOWN = ["[슬슬|이제|나 이제|난 이제] [자야겠다|잘게|누울게]", "[졸려서|눈 감겨서|피곤해서] [먼저 잘게|이제 누울게|자야겠다]",
                "[벌써|헐 벌써] [잘 시간이네|잘 시간이다]", "[내일|낼] [출근해야 돼서|일찍 나가야 돼서] [자야겠다|잘게]"]  # late, any topic
HER_SIGNOFF = ["오빠 저 이제 잘게요", "이제 자려고 누웠어요, 오빠도 일찍 자요", "내일 일찍 일어나야 해서 먼저 잘게요",
               "오빠도 잘 자요", "좋은 꿈 꿔요", "졸려서 이제 자야겠어요"]
SORRY = ["[미안|헐 미안|아 미안|미안미안|ㅠㅠ 미안]", "[이제 봤어|지금 봤다|폰을 못 봤어|카톡 이제 봤어|정신없어서 못 봤어]",
         "[회의가 계속 있었어|일이 터져서 정신없었어|폰 배터리 나갔었어|외근이라 폰 못 봤어|운전 중이었어]"]
SORRY_MORNING = ["[미안|헐 미안|아 미안|미안 ㅠ]", "[어제|어제 밤에] [먼저 잠들었어|씻고 바로 잤어|폰 보다 잠들었어|기절했어]"]
HER_FORGIVE = "[괜찮아요|아니에요|헐 걱정했잖아요], [바빴나 봐요|고생했어요|많이 바빴죠?|이제라도 연락해 줘서 다행이에요]"
HER_NUDGE = ["오빠 많이 바빠요?", "오빠 연락이 없네요 ㅠ", "바쁜가 봐요 ㅎㅎ", "오빠 살아 있어요?", "답장 기다리고 있어요", "오빠?",
             "오빠??", "오빠 뭐 해요?", "오빠 아직 바빠요?"]
HER_MORNING_NUDGE = ["오빠 어제 먼저 잠들었죠? ㅎㅎ", "오빠 일어났어요?", "좋은 아침이에요 오빠, 어제 잠들었나 봐요",
                     "오빠 어제 답장이 없어서 잠든 줄 알았어요"]
NUDGE_TOPICS = ["random", "plans"]  # her other way to nudge: just a new message, as if nothing happened

# His openers when he starts a session, per slot: (his words, topic, the threads her answer may come from)
ME_OPEN = {slot: [(_items(words)[0], topic, threads) for words, topic, threads in openers] for slot, openers in {
    "lunch": [("[밥|점심] 먹었@past?", "lunch", [2, 3, 4, 5]), ("점심 뭐 먹@eo?", "lunch", [1]),
              ("[배고파|배고프다] ㅠ", "lunch", [1, 4])],
    "evening": [("[퇴근했다|퇴근 ㅠ|드디어 탈출|퇴근 완료]", "evening", [3, 4, 6]), ("[오늘|이따] 저녁 뭐 먹@eo?", "evening", [2])],
    "night": [("[뭐 해|뭐 함|뭐 하냐]?", "night", [1]), ("[오늘|오늘 하루도] 고생했@past", "night", [2]), ("[자|안 자]?", "night", [4])],
}.items()}
GREET_THREADS = [0, 3, 4, 5]  # her answers when he says good morning first

# Special exchanges: placeholders of every kind, multi-line messages, system lines and the planted
# personal data. Steps: (delay, who, text[, kind]); delay = minutes, "L" = a reply latency or (lo, hi);
# who = me / her / A / B (a random one and the other) / sys / me* (his habits on " / " bubbles) /
# me@ (his composed answer on a topic). {name} values come from lib.sample.PERSONAL and the caller.
SCRIPTS = {
    "photo": [(0, "her", "[사진|사진|사진|사진 2장|사진 3장|사진 5장]", "photo"),
              (0, "her", "[오늘 {food} 먹었어요 ㅎㅎ|여기 분위기 너무 좋아요|이거 보고 오빠 생각났어요]"), ("L", "me@", "photo")],
    "album": [(0, "her", "사진 [2|3|4|5|6]장", "photo"), (0, "her", "주말에 찍은 사진이에요 ㅎㅎ"), ("L", "me@", "photo")],
    "his_photo": [(0, "me", "사진", "photo"), (0, "me*", "[이거 봐|봐 봐|이거 뭐냐|이거 보고 빵 터짐|오늘 본 거]"),
                  ("L", "her", "[우와 너무 예뻐요|ㅎㅎ 맛있어 보여요, 저도 먹고 싶어요|오빠 사진 잘 찍었네요]")],
    "emoticon_me": [(0, "me", "이모티콘", "emoticon"), (0, "me*", "[ㅋㅋㅋㅋ|이거 나야|귀엽지|딱 나네]"), (1, "her", "이모티콘", "emoticon")],
    "emoticon_her": [(0, "her", "이모티콘", "emoticon"), (1, "me", "이모티콘", "emoticon")],
    "video": [(0, "her", "동영상", "video"), (0, "her", "강아지 영상인데 너무 귀여워요 ㅎㅎ"), ("L", "me@", "photo")],
    "file": [(0, "her", "여행 일정표 정리해봤어요, 한번 봐줘요"), (0, "her", "파일: 제주도_여행일정_v2.pdf", "file"),
             ("L", "me*", "오 [완벽하다|깔끔하다] / [역시 최고|고생했어]")],
    "audio": [(0, "me", "음성메시지", "audio"), (2, "her", "ㅎㅎ 목소리 들으니까 좋네요")],
    "call": [(0, "A", "[보이스톡 해요|페이스톡 해요]", "call"), ((5, 40), "A", "[보이스톡 12:04|페이스톡 23:51|보이스톡 03:17]", "call")],
    "missed_call": [(0, "her", "부재중 보이스톡", "call"),
                    ("L", "me*", "아 [전화 못 받았어|전화 왔었네] / [회의 중이었어|운전 중이었어] / 이따 전화할게")],
    "deleted": [(0, "me", "삭제된 메시지입니다.", "deleted"), (1, "her", "뭐 보냈다가 지웠어요? ㅎㅎ 궁금해요"),
                (0, "me*", "[아무것도 아니야|별거 아니야] / 오타")],
    "transfer": [(0, "her", "어제 밥값 보낼게요"), (0, "her", "송금 24,000원", "other"), ("L", "me*", "안 보내도 되는데 / 고마워")],
    "map": [(0, "me", "여기서 보자"), (0, "me", "지도: 망원동 카페 온기", "other"), (1, "her", "네 좋아요, 거기서 7시에 봐요")],
    "multiline_plan": [(0, "her", "이번 주말 일정 정리했어요\n토요일 12시 연남동 점심\n3시 전시회\n7시 저녁은 오빠가 골라요 ㅎㅎ"),
                       ("L", "me*", "[완벽|좋아] / 저녁은 {dinner}")],
    "multiline_list": [(0, "her", "마트에서 사 올 거예요\n1. 우유\n2. 계란\n3. 딸기\n빠진 거 있으면 말해줘요"), ("L", "me", "맥주도\n그리고 과자 ㅋㅋ")],
    "phone": [(0, "her", "오빠 {friend}이 번호 물어봐서 알려줬어요, 연락 올 거예요"), ("L", "me", "ㅇㅋ"),
              (0, "me", "내 번호 {phone} 맞지?"), (1, "her", "네 맞아요 ㅎㅎ")],
    "phone_hangul": [(0, "her", "오빠 {friend}이 번호 물어봐서 알려줬어요, 연락 올 거예요"), ("L", "me", "ㅇㅋ"),
                     (0, "me", "내 번호 {phone} ㅋㅋ"), (1, "her", "네 맞아요 ㅎㅎ")],
    "mom_phone": [(0, "her", "혹시 제 폰 꺼지면 엄마 번호로 연락해요 {phone_mom}"), (0, "me", "응 저장했어 👍")],
    "address": [(0, "me", "택배 주소 뭐였지?"), (2, "her", "{address}예요\n문 앞에 두고 가달라고 써줘요"), (1, "me", "ㅇㅋ 주문했어")],
    "office": [(0, "me", "나 오늘 외근이라 {office}으로 와 ㅋㅋ"), (0, "her", "네 퇴근하고 그쪽으로 갈게요")],
    "account": [(0, "me", "계좌 알려줘"), (0, "me", "콘서트 티켓값 보낼게"), (1, "her", "{bank} {account} {her}이에요"),
                (2, "me", "보냈어 ㅋㅋ")],
    "account_his": [(0, "her", "회비 어디로 보내요?"), (0, "me", "{his_bank} {his_account}"), (0, "me", "{me} ㅋㅋ")],
    "email": [(0, "me", "사진 원본 보내줄게"), (0, "me", "메일 주소 뭐야?"), (1, "her", "{email} 으로 보내줘요")],
    "instagram": [(0, "her", "오빠 인스타 아이디가 뭐였죠? 팔로우하려고요"), (1, "me", "{instagram}"), (0, "me", "사진 별로 없어 ㅋㅋㅋ")],
    "kakao_id": [(0, "me", "서연아 {friend0}이가 너 카톡 추가한대"), (1, "her", "제 카톡 아이디 {kakao_id} 알려줘요 ㅎㅎ")],
    "friends": [(0, "me", "{f1}이가 이번 주 금요일에 술 먹재"), (0, "me", "{f3}이랑 {f2}이도 온대 ㅋㅋ"),
                ("L", "her", "좋아요, {f1}이한테 저도 간다고 말해줘요"), (1, "me", "{f3}아 너도 와라 ㅋㅋ 하고 단톡에 보냄")],
    "name_call": [(0, "me", "서연아"), (0, "me", "뭐 해"), (1, "her", "도윤 오빠 왜요? ㅎㅎ"), (0, "me", "그냥 불러봤어 ❤️")],
    "url": [(0, "her", "여기 예약했어요 {url}"), (0, "me", "오 굿 👍")],
    # A 1:1 room has almost no system lines: "X님이 나갔습니다." when one leaves after a fight is the one
    # real case (her later messages still arrive in his room, so the chat goes on). Same minute as her
    # message: PC exports write system lines without a clock.
    "leave": [(0, "her", "[오빠 진짜 너무해요|됐어요 그만 얘기해요]"), (0, "sys", "{her}님이 나갔습니다.", "system"),
              (30, "me", "내가 잘못했어"), (0, "me", "화 풀어 ㅠ"), (0, "me", "전화 받아줘 🙏")],
}
# one fixed cast so the inflected forms the maskers must handle are surely there: 민준이가, 수빈이랑, 지훈아
SCRIPTS["friends_fixed"] = SCRIPTS["friends"] + [(1, "her", "그럼 저는 {f2}이랑 같이 갈게요 ㅎㅎ")]

# Session slots: (name, start window in minutes after midnight on weekdays, on weekends, probability)
SLOTS_OF_DAY = [
    ("morning", (7 * 60 + 20, 8 * 60 + 40), (9 * 60 + 30, 11 * 60), 0.85),
    ("lunch", (12 * 60, 13 * 60 + 10), (12 * 60 + 30, 14 * 60), 0.75),
    ("work", (14 * 60 + 30, 17 * 60), None, 0.4),
    ("evening", (18 * 60, 20 * 60 + 30), (17 * 60, 19 * 60), 0.8),
    ("night", (22 * 60, 24 * 60 + 20), (22 * 60 + 30, 24 * 60 + 50), 0.8),
]

# How often each special happens (besides one per planted phone spelling and the fixed cast of friends).
SPECIALS = {"mom_phone": 1, "address": 1, "office": 1, "account": 1, "account_his": 1, "email": 1, "instagram": 1,
            "kakao_id": 1, "friends": 2, "name_call": 2, "url": 1, "leave": 1, "photo": 40, "album": 6, "his_photo": 20,
            "emoticon_me": 20, "emoticon_her": 10, "video": 5, "file": 2, "audio": 4, "call": 10, "missed_call": 3,
            "deleted": 3, "transfer": 3, "map": 3, "multiline_plan": 3, "multiline_list": 2}
# One of each placeholder kind, the system line and both multi-line kinds happen in the first two weeks,
# so the shorter files of the other formats (lib.sample.WINDOW_DAYS) still contain every kind.
SHOWCASE = ["album", "his_photo", "emoticon_me", "video", "file", "audio", "call", "missed_call", "deleted",
            "transfer", "map", "multiline_plan", "multiline_list", "leave"]

README = """# data/sample — a fictional couple chat

Written by `python -m lib.sample` (`make sample`); do not edit by hand. **Everything here is invented**:
{me} ("me", short bubbles, ㅋㅋ, 반말, emoji) and {her} ("her", longer sentences ending in ~요), their
friends, phone numbers, the address, the bank accounts, e-mail and IDs. Any resemblance to real people
or numbers is accidental. Messages are composed from topics and slots with each one's habits on top, so
most of his replies are new sentences, and he has time habits (good morning, good night, sorry after
hours of silence).

- `pc_ko.txt` (PC, Korean) holds the whole chat: {n} records, {start} to {end}. It is the default input
  of `make pipeline` (configs/sample-cpu.yaml).
- The same chat in every other KakaoTalk export format, first {weeks} weeks only ({n_window} records, to
  {window_end}), to keep this folder small: {others}.
- `planted.json` lists the fake personal values planted in the chat, by type; the privacy tests check
  that none of them survives masking.
"""
