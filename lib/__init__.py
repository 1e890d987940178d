"""말버릇 (malbeot): KakaoTalk chat history -> a chatbot that texts like you.

One module per stage: kakao (parse) -> privacy (mask) -> dataset (pairs) -> compare/train (QLoRA)
-> export (serving files) -> chat + backends (replies) -> evaluate (does it sound like me?).
docs/ARCHITECTURE.md has the picture and every module's contract.
"""
