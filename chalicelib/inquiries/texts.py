"""What the API tells a visitor about a refused inquiry, in the visitor's language (en, zh).

fields.py finds what is wrong in English sentence fragments ("is required"); `in_locale`
turns them into Chinese sentences that name the field ("请填写姓名。") when the inquiry's
locale is zh, and leaves them as they are otherwise. Addresses the email check refuses get
a Chinese sentence for each of email-validator's common complaints, and a general one for
the rest. The summary messages of the error answers come from here too.
"""

from __future__ import annotations

import re

LOCALES = ("en", "zh")

FIELD_NAMES_ZH = {
    "name": "姓名",
    "email": "邮箱",
    "message": "留言",
    "phone": "电话",
    "company": "公司",
    "country": "国家/地区",
    "product": "配件名称或 OE 号",
    "quantity": "数量",
    "page": "页面地址",
    "locale": "语言",
    "redirect": "跳转地址",
    "referrer": "来源网址",
    "landing_page": "着陆页",
    "cf-turnstile-response": "人机验证",
}

# (English fragment as fields.py writes it, as a pattern) -> Chinese sentence; {f} is the
# field's name, {0}... the pattern's groups.
_FRAGMENTS_ZH: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"is required"), "请填写{f}。"),
    (re.compile(r"was given more than once"), "{f}只能填写一次。"),
    (re.compile(r"must be a string"), "{f}必须是文字。"),
    (re.compile(r"contains characters that are not valid text"), "{f}含有无效的字符。"),
    (re.compile(r"must not contain control characters"), "{f}不能包含控制字符。"),
    (re.compile(r"must be a single line.*"), "{f}只能填写一行，不能换行或包含控制字符。"),
    (re.compile(r"must be at most (\d+) characters"), "{f}最多 {0} 个字符。"),
    (re.compile(r"must not contain the characters =\?"), "{f}不能包含字符 =?。"),
    (re.compile(r"must contain a phone number"), "{f}必须包含电话号码。"),
    (re.compile(r"must be an http\(s\) URL"), "{f}必须是 http(s) 网址。"),
    (re.compile(r"must be a URL on the company's own site"), "{f}必须是本公司网站上的网址。"),
    (re.compile(r"must be en or zh"), "{f}必须是 en 或 zh。"),
    (re.compile(r"must be a whole number from 1 to ([\d,]+)"), "{f}必须是 1 到 {0} 之间的整数。"),
    (re.compile(r"the anti-robot check failed.*"), "{f}未通过，请重试。"),
]
# email-validator's sentences (and email_check's own) -> Chinese.
_EMAIL_ZH: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"must have an @-sign", re.I), "邮箱地址必须包含 @ 符号。"),
    (re.compile(r"something before the @-sign", re.I), "邮箱地址的 @ 前面必须有内容。"),
    (re.compile(r"something after the @-sign", re.I), "邮箱地址的 @ 后面必须有域名。"),
    (
        re.compile(r"after the @-sign is not valid\. It should have a period", re.I),
        "邮箱地址 @ 后面的域名无效：应包含一个点（例如 example.com）。",
    ),
    (re.compile(r"too long", re.I), "邮箱地址太长。"),
    (
        re.compile(r"does not exist|does not accept email|not resolve", re.I),
        "邮箱的域名不存在或不接收邮件。",
    ),
    (re.compile(r"=\?", re.I), "邮箱地址 @ 前面不能包含字符 =?。"),
    (re.compile(r"cannot be used in an email header", re.I), "这个邮箱地址无法用于发送邮件。"),
    (
        re.compile(r"internationali[sz]ed characters before the @-sign|SMTPUTF8", re.I),
        "邮箱地址 @ 前面只能使用英文字母、数字和常用符号。",
    ),
]
_EMAIL_ZH_OTHER = "邮箱地址无效，请检查后重新填写。"

SUMMARY = {"en": "Some fields need attention.", "zh": "部分内容需要修改。"}


def in_locale(errors: dict[str, str], locale: str) -> dict[str, str]:
    """The field errors for a visitor of `locale`: Chinese sentences for zh, else as given."""
    if locale != "zh":
        return errors
    return {name: field_error_zh(name, message) for name, message in errors.items()}


def field_error_zh(name: str, message: str) -> str:
    label = FIELD_NAMES_ZH.get(name, name)
    for pattern, sentence in _FRAGMENTS_ZH:
        match = pattern.fullmatch(message)
        if match:
            return sentence.format(*match.groups(), f=label)
    if name == "email":
        for pattern, sentence in _EMAIL_ZH:
            if pattern.search(message):
                return sentence
        return _EMAIL_ZH_OTHER
    return f"{label}填写有误，请检查。"


def locale_of(tag: str | None) -> str | None:
    primary = (tag or "").strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LOCALES else None
