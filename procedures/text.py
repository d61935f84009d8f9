import unicodedata


def normalize_search(text: str) -> str:
    """Lower-case text without Vietnamese diacritics, so that "dang ky" finds "Đăng ký".

    NFD splits letters from their combining marks; đ/Đ is a letter of its own, not a mark.
    """
    decomposed = unicodedata.normalize("NFD", text or "")
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(stripped.replace("đ", "d").replace("Đ", "D").lower().split())
