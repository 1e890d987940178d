"""말버릇 (malbeot): KakaoTalk chat history -> a chatbot that texts like you.

One module per stage: kakao (parse) -> privacy (mask) -> dataset (pairs) -> models/train (QLoRA)
-> chat/export (serve) -> evaluate (does it sound like me?). `config` holds paths and profiles.
"""
