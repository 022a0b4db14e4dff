"""Reading a write-up PDF back in the tests (pypdf): each question's pages and their text,
and the pictures a page really draws."""

import re


def footer_key(text):
    """The question or appendix key named in a page's footer ("question 4.2"), or None."""
    found = re.search(r"(?:question|appendix) (\d\.\d|[A-Z])\s+page \d+ of \d+", text)
    return found.group(1) if found else None


def question_pages(reader):
    """dict key -> [(page index, page text)] of every question's and appendix's pages."""
    pages = {}
    for index, page in enumerate(reader.pages):
        text = page.extract_text()
        key = footer_key(text.replace("\n", " "))
        if key:
            pages.setdefault(key, []).append((index, text))
    return pages


def drawn_images(page):
    """How many pictures a page draws (matplotlib's PDFs list every image of the document
    in each page's resources, so page.images cannot tell)."""
    return len(re.findall(rb"/I\d+ Do\b", page.get_contents().get_data()))
