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
    "incoterm": "贸易术语",
    "destination_port": "目的港",
    "whatsapp": "WhatsApp 号码",
    "wechat": "微信号",
    "items": "配件清单",
    "attachments": "附件",
}
# items[3].quantity -> 第 4 行的数量 (rows are counted from 1 for people)
ROW_FIELD_NAMES_ZH = {
    "part_number": "零件号（OE 号）",
    "description": "描述",
    "quantity": "数量",
    "unit": "单位",
    "target_price": "目标价格",
    "currency": "币种",
}
_ROW_NAME = re.compile(r"items\[([0-9]+)\](?:\.(\w+))?\Z")

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
    (
        re.compile(r"must be at most (\d+) characters \((\d+) in Chinese\)"),
        "{f}最多 {0} 个字符（中文最多 {1} 个）。",
    ),
    (re.compile(r"must not contain the characters =\?"), "{f}不能包含字符 =?。"),
    (re.compile(r"must contain a phone number"), "{f}必须包含电话号码。"),
    (re.compile(r"must be an http\(s\) URL"), "{f}必须是 http(s) 网址。"),
    (re.compile(r"must be a URL on the company's own site"), "{f}必须是本公司网站上的网址。"),
    (re.compile(r"must be en or zh"), "{f}必须是 en 或 zh。"),
    (re.compile(r"must be a whole number from 1 to ([\d,]+)"), "{f}必须是 1 到 {0} 之间的整数。"),
    (re.compile(r"the anti-robot check failed.*"), "{f}未通过，请重试。"),
    (re.compile(r"cannot be sent with items.*"), "{f}不能与配件清单同时填写，请填在清单的一行里。"),
    (re.compile(r"must be one of (.+)"), "{f}必须是以下之一：{0}。"),
    (
        re.compile(r"must be a phone number of 7 to 15 digits.*"),
        "{f}必须是 7 到 15 位数字的电话号码（可包含 +、空格、-、.、括号）。",
    ),
    (
        re.compile(r"must be a WeChat ID.*"),
        "{f}必须是 6 到 20 位的微信号：字母、数字、_ 或 -，以字母开头。",
    ),
    (re.compile(r"must have at most (\d+) rows"), "{f}最多 {0} 行。"),
    (re.compile(r"must be sent as an array or as .*"), "{f}只能以数组或 items[N] 字段之一提交。"),
    (re.compile(r"must be numbered .*"), "{f}的行号必须从 items[0] 起连续编号。"),
    (re.compile(r"must be an array of rows \(objects\)"), "{f}必须是由对象组成的数组。"),
    (
        re.compile(r"must be an array of rows \(objects\): row (\d+) is not one"),
        "{f}必须是由对象组成的数组（items[{0}] 不是对象）。",
    ),
    (
        re.compile(r"must be sent as fields named items\[N\]\.field, N from 0 to (\d+)"),
        "{f}的字段名必须是 items[N].字段名，N 为 0 到 {0}。",
    ),
    (re.compile(r"has unknown fields: (.+)"), "{f}含有未知字段：{0}。"),
    (re.compile(r"is required \(or a description\)"), "请填写{f}或描述。"),
    (re.compile(r"is required with a target_price"), "填写目标价格时必须填写{f}。"),
    (
        re.compile(r"must be a three-letter ISO 4217 code like USD"),
        "{f}必须是三个字母的 ISO 4217 货币代码，例如 USD。",
    ),
    (
        re.compile(r"must be a price above 0 with at most 2 decimals, like 12.50"),
        "{f}必须是大于 0、最多两位小数的价格，例如 12.50。",
    ),
    # attachments (chalicelib/attachments/files.py, fields.py)
    (re.compile(r"must be at most (\d+) files"), "{f}最多 {0} 个文件。"),
    (re.compile(r"must be at most (\d+) MB in all"), "{f}总共最多 {0} MB。"),
    (re.compile(r"must be (a list of upload ids|an upload id).*"), "{f}无效，请重新上传。"),
    (re.compile(r"cannot be sent here.*"), "本网站不接收{f}，请通过电子邮件发送文件。"),
    (re.compile(r"is the same file as an earlier one"), "{f}重复了。"),
    (re.compile(r"was not found.*"), "{f}未找到，请重新上传。"),
    (re.compile(r"was uploaded by someone else.*"), "{f}不属于本次提交，请重新上传。"),
    (re.compile(r"is empty"), "{f}是空文件。"),
    (re.compile(r"is larger than (\d+) MB"), "{f}超过 {0} MB。"),
    (re.compile(r"is not a type we accept"), "{f}的文件类型不被接受。"),
    (re.compile(r"is an executable program or script.*"), "{f}是可执行程序或脚本，不被接受。"),
    (re.compile(r"is a web page \(HTML\).*"), "{f}是网页（HTML），不被接受。"),
    (re.compile(r"is a ZIP archive.*"), "{f}是 ZIP 压缩包，不被接受。"),
    (re.compile(r"is not .* as its name says"), "{f}的内容与文件名所示的类型不符。"),
]
_ATTACHMENT = re.compile(r"attachments\[(\d+)\]")
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


def field_label_zh(name: str) -> str:
    row = _ROW_NAME.match(name)
    if row is None:
        return FIELD_NAMES_ZH.get(name, name)
    number, field = int(row.group(1)) + 1, row.group(2)
    if field is None:
        return f"第 {number} 行"
    return f"第 {number} 行的{ROW_FIELD_NAMES_ZH.get(field, field)}"


def field_error_zh(name: str, message: str) -> str:
    attachment = _ATTACHMENT.fullmatch(name)
    label = f"第 {int(attachment[1]) + 1} 个附件" if attachment else field_label_zh(name)
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
