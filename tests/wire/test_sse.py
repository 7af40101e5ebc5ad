"""The pure server-sent-events parser: line splitting across chunks, the field rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from takopi_nb.wire._sse import SSEEvent, iter_lines, iter_sse


def events(raw: bytes, sizes: list[int] | None = None) -> list[SSEEvent]:
    chunks: list[bytes] = []
    if sizes is None:
        chunks = [raw]
    else:
        at = 0
        for size in sizes:
            chunks.append(raw[at : at + size])
            at += size
        chunks.append(raw[at:])
    return list(iter_sse(iter_lines(chunks)))


def test_named_events_and_json_data() -> None:
    raw = b'event: message_start\ndata: {"a": 1}\n\nevent: ping\ndata: {}\n\n'
    got = events(raw)
    assert [e.event for e in got] == ["message_start", "ping"]
    assert got[0].json() == {"a": 1}


def test_unnamed_events_are_messages_and_done_marker_is_plain_data() -> None:
    got = events(b"data: {}\n\ndata: [DONE]\n\n")
    assert [(e.event, e.data) for e in got] == [("message", "{}"), ("message", "[DONE]")]


def test_crlf_cr_and_lf_line_endings() -> None:
    raw = b"data: one\r\n\r\ndata: two\r\rdata: three\n\n"
    assert [e.data for e in events(raw)] == ["one", "two", "three"]


def test_comments_multiline_data_id_retry_and_unknown_fields() -> None:
    raw = (
        b": OPENROUTER PROCESSING\n\n"
        b"id: 7\nretry: 1500\nfoo: bar\ndata: line 1\ndata:line 2\ndata\n\n"
    )
    (event,) = events(raw)
    assert event.data == "line 1\nline 2\n"
    assert event.id == "7" and event.retry == 1500


def test_leading_bom_is_ignored_and_only_one_space_is_stripped() -> None:
    (event,) = events("\ufeffdata:  two spaces\n\n".encode())
    assert event.data == " two spaces"


def test_event_without_data_is_not_dispatched() -> None:
    assert events(b"event: nothing\n\ndata: x\n\n") == [SSEEvent("message", "x")]


def test_last_event_without_blank_line_is_still_delivered() -> None:
    assert [e.data for e in events(b"data: a\n\ndata: tail")] == ["a", "tail"]


def test_utf8_split_inside_a_character_and_crlf_split_across_chunks() -> None:
    raw = "data: héllo ✓\r\n\r\n".encode()
    for cut in range(1, len(raw)):
        assert [e.data for e in events(raw, [cut])] == ["héllo ✓"], cut


_frames = st.lists(
    st.tuples(
        st.one_of(st.none(), st.sampled_from(["a", "b.c", "response.completed"])),
        st.text(
            alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]),
            min_size=1,
        ),
    ),
    min_size=1,
    max_size=6,
)


@given(
    _frames,
    st.lists(st.integers(min_value=0, max_value=7), max_size=30),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_any_chunking_and_line_ending_gives_the_same_events(
    frames: list[tuple[str | None, str]], sizes: list[int], eol: str
) -> None:
    text = "".join(
        (f"event: {name}{eol}" if name else "") + f"data: {data}{eol}{eol}" for name, data in frames
    )
    expected = [SSEEvent(name or "message", data) for name, data in frames]
    assert events(text.encode(), sizes) == expected
