"""The fast path for MAIL/RCPT paths (gateway/smtp/mail_args.py) gives exactly aiosmtpd's answer, or defers to it."""

from __future__ import annotations

from aiosmtpd.smtp import SMTP
from hypothesis import example, given
from hypothesis import strategies as st

from gateway.smtp.mail_args import simple_path

LIBRARY = SMTP(object())

pieces = st.sampled_from(
    ["<", ">", "@", ".", " ", "\t", "(", ")", '"', "a", "B", "9", "-", "_", "+", "=", "x.y", "SIZE=1"]
)


@given(st.lists(pieces, max_size=14).map("".join))
@example("<vanthu@stc.camau.lienthong.test>")
@example("<vanthu@stc.camau.lienthong.test> SIZE=286000 BODY=8BITMIME")
@example("<a@b.c>\tSIZE=1")
@example("<a@b.c> (comment) SIZE=1")
@example("<a..b@c.d>")
@example("<>")
def test_the_fast_path_agrees_with_aiosmtpd(arg: str) -> None:
    fast = simple_path(arg)
    if fast is not None:
        assert fast == LIBRARY._getaddr(arg)


def test_the_fast_path_takes_the_common_forms() -> None:
    assert simple_path("<vanthu@stc.camau.lienthong.test>") == ("vanthu@stc.camau.lienthong.test", "")
    assert simple_path("<a.b+c@d-e.f> SIZE=1 BODY=8BITMIME") == ("a.b+c@d-e.f", "SIZE=1 BODY=8BITMIME")
    assert simple_path("<>") is None
    assert simple_path('<"quoted"@b.c>') is None
