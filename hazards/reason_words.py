"""A survey row's reasons and warnings in the user's language.

The import writes its reasons (why a row is rejected or waits in review) and warnings in
English, and the database and ``--json`` keep them so: they are data that tests, scripts and
later imports read. A county office reads them in Chinese: the rejected file sent back to the
survey firm, the import's summary and ``hazards review list`` give them through
:func:`reason_text`, which puts each clause it knows into Chinese (numbers, codes, stakes and
the file's own text carried over) and leaves a clause it does not know as it is.
"""

from __future__ import annotations

import re

from hazards.vocabulary import RELOAD_REVIEW_ZH, reload_words

_N = r"(\d+(?:\.\d+)?)"
_CODE = r"(\S+?)"
_CHECK = "check the coordinates and the route code"

REASONS_ZH: tuple[tuple[re.Pattern[str], str], ...] = (
    # a road reload sending a hazard to review (its event's note says the same)
    *RELOAD_REVIEW_ZH,
    *(
    (re.compile(pattern), zh)
    for pattern, zh in (
        # placing a row (hazards.reconcile)
        (rf"{_N} m from route {_CODE}, beyond the {_N} m limit; {_CHECK}",
         r"距路线 \2 \1 米，超出 \3 米的限值；请核对坐标和路线编码"),
        (rf"{_N} m from the nearest road \({_CODE}\), beyond the {_N} m limit; {_CHECK}",
         r"距最近道路（\2）\1 米，超出 \3 米的限值；请核对坐标和路线编码"),
        (rf"{_N} m from route {_CODE} \(accepted up to {_N} m\)",
         r"距路线 \2 \1 米（\3 米以内才自动接收）"),
        (rf"{_N} m from the nearest road \({_CODE}\) \(accepted up to {_N} m\)",
         r"距最近道路（\2）\1 米（\3 米以内才自动接收）"),
        (rf"the point is {_N} km from the nearest road, outside the network; check the coordinates",
         r"该点距最近道路 \1 公里，在路网之外；请核对坐标"),
        (r"the point is far from the nearest road, outside the network; check the coordinates",
         "该点远离路网；请核对坐标"),
        (r" \(they also look swapped, and do not land on the network either way\)",
         "（经纬度似乎也填反了，但对调后同样不在路网上）"),
        (r"route code ('[^']*'|\"[^\"]*\") is not in the road network; correct the code "
         r"\(or leave it empty to match by position\)",
         r"路线编码 \1 不在路网中；请更正编码（或留空，按坐标匹配）"),
        (rf"route code ('[^']*'|\"[^\"]*\") is not in the road network; the point is {_N} m "
         rf"from route {_CODE}: accept it there, or correct the code",
         r"路线编码 \1 不在路网中；该点距路线 \3 \2 米：可在该路线上接收，或更正编码"),
        (rf"route code ('[^']*'|\"[^\"]*\") is not in the road network and the point is not "
         rf"within {_N} m of a road \((.*)\); correct the code or the coordinates",
         r"路线编码 \1 不在路网中，且该点不在任何道路 \2 米以内（\3）；请更正编码或坐标"),
        (rf"conflict: the point is {_N} m from route {_CODE} but {_N} m from the stated route "
         rf"{_CODE}(?=;|$)",
         r"路线冲突：该点距路线 \2 \1 米，而距所填路线 \4 \3 米"),
        (rf"ambiguous: routes (.+?) are all within {_N} m and the row has no route code",
         r"路线不明：路线 \1 都在 \2 米以内，且该行未填路线编码"),
        (rf"stated chainage (\S+) and measured (\S+) differ by {_N} m",
         r"所填桩号 \1 与实测桩号 \2 相差 \3 米"),
        (rf"it repeats {_CODE} there \(same category within {_N} m\): reject it as a repeat if "
         r"it is one",
         r"与该处已有隐患 \1 重复（同类，相距不到 \2 米）：如确属重复请拒收"),
        (r"no usable location: the row needs coordinates \(经度/纬度\) or a route code with a "
         r"chainage \(路线编码 \+ 桩号\)",
         "没有可用的位置：该行需要坐标（经度/纬度），或路线编码加桩号"),
        (r"^empty row$", "空行"),
        (rf"coordinates \(([^()]*)\) look projected, not degrees; give the file's coordinate "
         rf"reference system when importing it \(e\.g\. {_CODE}\)",
         r"坐标（\1）像是投影坐标而不是经纬度；导入时请指明文件的坐标系（如 \2）"),
        (r"coordinates \(([^()]*)\) are outside ±180/±90 degrees",
         r"坐标（\1）超出经纬度 ±180/±90 的范围"),
        (r"coordinates \((.*?)\) are not usable: ('.*?'|\".*?\") is not a coordinate \(decimal "
         r"degrees or degrees-minutes-seconds\)",
         r"坐标（\1）无法使用：\2 不是坐标（应为十进制度或度分秒）"),
        (r"coordinates \((.*?)\) are not usable: one of the two coordinates is empty",
         r"坐标（\1）无法使用：缺少经度或纬度之一"),
        (r"coordinates 0, 0 are no place \(what a GPS without a fix writes\): ignored",
         "坐标为 0, 0（GPS 未定位时的写法），已忽略"),
        (r"latitude and longitude were swapped in the sheet; fixed", "表中经纬度填反，已对调"),
        # chainages (hazards.chainage, hazards.survey)
        (rf"Chainage (\S+) is outside route {_CODE}( part \d+)?: it runs from (\S+) to (\S+?)\.?(?=;|$)",
         r"桩号 \1 超出路线 \2\3 的范围（\4 至 \5）"),
        (rf"起点桩号/止点桩号 (\S+)–(\S+) run beyond route {_CODE} \(it runs from (\S+) to "
         r"(\S+)\); correct the chainages or the route code",
         r"起点桩号/止点桩号 \1–\2 超出路线 \3 的范围（\4 至 \5）；请更正桩号或路线编码"),
        (rf"起点桩号/止点桩号 (\S+)–(\S+) run beyond route {_CODE}( part \d+)?, which runs from "
         r"(\S+) to (\S+); correct the chainages or the route code",
         r"起点桩号/止点桩号 \1–\2 超出路线 \3\4 的范围（\5 至 \6）；请更正桩号或路线编码"),
        (r"Chainage ('.*?'|\".*?\") is not understood\. Write it as K12\+350 \(12 km 350 m\), "
         r"K12\+350\.5, 12\+350, or plain metres such as 12350",
         r"桩号 \1 无法识别，请写成 K12+350（12 公里 350 米）、K12+350.5、12+350 或纯米数如 12350"),
        (r"Chainage ('.*?'|\".*?\"): the metres after '\+' must be below 1000 \(write (\S+)\)",
         r"桩号 \1：“+”后的米数须小于 1000（应写作 \2）"),
        (r"chainage ('.*?'|\".*?\") is not understood; write it as K12\+350",
         r"桩号 \1 无法识别，请写成 K12+350 的形式"),
        (r"chainage range ('.*?'|\".*?\") \(column (.+?)\) is not understood; write it as "
         r"K0\+580~K0\+909",
         r"起止桩号 \1（列 \2）无法识别，请写成 K0+580~K0+909 的形式"),
        (r"chainage ('.*?'|\".*?\") \(column (.+?)\) is not understood; write it as K12\+350",
         r"桩号 \1（列 \2）无法识别，请写成 K12+350 的形式"),
        (r"the chainage falls in a gap of the road data; placed on the straight line over it",
         "该桩号落在路网数据的缺口处；按缺口两端间的直线定位"),
        (r"桩号 ('.*?'|\".*?\") \(column (.+?)\) is a range: read as 起止桩号",
         r"桩号 \1（列 \2）是一个范围：按起止桩号读取"),
        # duplicates within the sheet (hazards.duplicates)
        (rf"same category \(([^)]*)\) on route {_CODE} within {_N} m of 序号 (\S+) "
         r"\((?:row|line|feature) (\d+)\)",
         r"与序号 \4（第 \5 行）同类（\1），同在路线 \2 上且相距不到 \3 米"),
        (rf"same category \(([^)]*)\) on route {_CODE} within {_N} m of (?:row|line|feature) "
         r"(\d+)",
         r"与第 \4 行同类（\1），同在路线 \2 上且相距不到 \3 米"),
        (rf"(?:same category|no category, same description,) on route {_CODE} within {_N} m "
         r"of 序号 (\S+) \((?:row|line|feature) (\d+)\)",
         r"与序号 \3（第 \4 行）重复，同在路线 \1 上且相距不到 \2 米"),
        (rf"(?:same category|no category, same description,) on route {_CODE} within {_N} m "
         r"of (?:row|line|feature) (\d+)",
         r"与第 \3 行重复，同在路线 \1 上且相距不到 \2 米"),
        # the row's cells (hazards.survey)
        (r"category ('.*?'|\".*?\") is not in the vocabulary; kept verbatim as 'other'",
         r"隐患类型 \1 不在词表中；按原文保留，归为“其他”"),
        (r"risk level ('.*?'|\".*?\") is not understood \(use 一级/二级/三级, I/II/III, 1/2/3, "
         r"高/中/低\); left empty",
         r"风险等级 \1 无法识别（请用 一级/二级/三级、I/II/III、1/2/3 或 高/中/低）；留空"),
        (r"止点桩号 (\S+) is before 起点桩号 (\S+); the two ends were swapped",
         r"止点桩号 \1 在起点桩号 \2 之前；已对调两端"),
        (r"only one end of the section is given \(column (.+?)\) and no length; taken as a point",
         r"路段只给了一端（列 \1），也没有长度；按点处理"),
        (r"length ('.*?'|\".*?\") is not a number of metres; left empty",
         r"长度 \1 不是米数；留空"),
        (r"photo ('.*?'|\".*?\") not found; the hazard is kept without it",
         r"未找到照片 \1；隐患照常保存，不带照片"),
        (r"乡镇 (.+?) differs from the township of the road segment here \((.+?)\); the hazard "
         r"is counted in \2",
         r"乡镇 \1 与此处路段所属乡镇（\2）不一致；该隐患计入 \2"),
        (r"cost ('.*?'|\".*?\") is not a number", r"费用 \1 不是数字"),
        (r"; left empty, not guessed", "；留空，不作猜测"),
        # a crash's date (hazards.crashes)
        (r"no date: the crash needs its date \(事故时间, or 年/月/日\)",
         "没有日期：事故记录须有日期（事故时间，或 年/月/日）"),
        (r"no usable location: the crash needs coordinates \(经度/纬度\) or a route code with a "
         r"chainage \(路线编码 \+ 桩号\)",
         "没有可用的位置：事故记录需要坐标（经度/纬度），或路线编码加桩号"),
        (r"(\d+)-(\d+)-(\d+) \(columns (\S+)\) is not a day: [^;]*",
         r"\1-\2-\3（列 \4）不是有效日期"),
        (r"the year (\d+) \(column (.+?)\) was read as (\d+)", r"年份 \1（列 \2）按 \3 年读取"),
        (r"severity ('.*?'|\".*?\") is not understood \(KABCO letters, 死亡事故/伤人事故/财产损失事故, "
         r"特大/重大/一般/轻微\); taken from the casualty counts",
         r"事故等级 \1 无法识别（可用 KABCO 字母、死亡事故/伤人事故/财产损失事故、特大/重大/一般/轻微）；"
         r"按伤亡人数确定"),
        (r"(\S+) ('.*?'|\".*?\") \(column (.+?)\) is not a count of people; left empty",
         r"\2（列 \3）不是人数；留空"),
        (r"date or time not understood: ", "日期或时间无法识别："),
        (r"the date (\S+) is in the future; correct it", r"日期 \1 晚于今天；请更正"),
        (r"the date (\S+) is before (\d+): the year looks mistyped; correct it",
         r"日期 \1 早于 \2 年：年份似乎有误；请更正"),
        (r"路线名称 (.+?) differs from the network's name of route (\S+) \((.+?)\); check the "
         r"route code \(路线编码\)",
         r"路线名称 \1 与路网中路线 \2 的名称（\3）不一致；请核对路线编码"),
        *(
            (rf"the {_N} m section centred on (\S+) runs past {ends} of route (\S+?)( part \d+)?; "
             r"cut to (\d+) m",
             rf"以 \2 为中心的 \1 米路段超出路线 \3\4 的{zh}；截为 \5 米")
            for ends, zh in (("the start and the end", "起点和终点"), ("the start", "起点"),
                             ("the end", "终点"))
        ),
        # a road load's warnings (hazards.roads, hazards.unassigned)
        (r"(\d+) route\(s\) loaded before are not in this file and stay as they were: (.+?)\.$",
         r"\1 条此前载入的路线不在本文件中，保持原样：\2。"),
        (rf"(\d+) line\(s\) without a route code are roads without a code loaded before "
         rf"\(within {_N} m\), kept under their names: (.+?)\.$",
         r"\1 条无编码道路是此前载入过的无编码道路（相距 \2 米以内），沿用原名：\3。"),
        (r"; placed by its route and 桩号", "；已按路线编码和桩号定位"),
        # what is left of a clause: the column it read
        (r" ?\(column ([^()]+)\)", r"（列 \1）"),
    )
    ),
)  # fmt: skip
"""Each clause the import writes (a regular expression), and its Chinese; applied in turn to a
whole reason, so that a reason of several clauses (``…; it repeats H000012 there …``) is
put into Chinese clause by clause."""

REASON_KEYS_ZH = {
    "unknown_route": "路线编码不在路网中",
    "bad_coordinates": "坐标有误",
    "unparsable": "无法读取",
    "no_location": "没有位置",
    "outside_network": "在路网之外",
    "too_far": "距道路过远",
    "distance": "距道路较远",
    "conflict": "路线冲突",
    "ambiguous": "路线不明",
    "chainage_mismatch": "桩号不符",
    "chainage_out_of_range": "桩号超出路线范围",
    "range_out_of_route": "起止桩号超出路线范围",
    "duplicate_in_file": "表内重复",
    "correction_out_of_order": "更正日期早于隐患最近变更",
    "correction_moves": "更正移动了位置",
    "correction_moves_work": "更正移动了在治隐患",
}
"""The short names of why rows were rejected or held (``rejected_by_reason``), in Chinese."""


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_BETWEEN = re.compile(r"(?<=[^\x00-\x7f]); |; (?=[^\x00-\x7f])")


def reason_text(text: str | None, lang: str) -> str | None:
    """A reason or warning as a reader of ``lang`` sees it: as written in en, each clause of
    :data:`REASONS_ZH` in Chinese in zh (``; `` between a Chinese clause and the next becoming
    ``；``). The file's own text in quotes (a cell, a photo's name) is carried over as it is."""
    if text is None or lang != "zh":
        return text
    quoted: list[str] = []

    def hold(m: re.Match[str]) -> str:  # a quoted span a pattern could mangle, held apart
        if not any(c in m.group(0) for c in "(;"):
            return m.group(0)
        quoted.append(m.group(0)[1:-1])
        return f"{m.group(0)[0]}\x00{len(quoted) - 1}\x00{m.group(0)[-1]}"

    out = _QUOTED.sub(hold, text)
    for pattern, zh in REASONS_ZH:
        out = pattern.sub(zh, out)
    out = reload_words(_BETWEEN.sub("；", out))
    return re.sub("\x00(\\d+)\x00", lambda m: quoted[int(m.group(1))], out)


def reason_key_text(key: str, lang: str) -> str:
    """A reason's short name (``unknown_route``) as a reader of ``lang`` sees it."""
    return REASON_KEYS_ZH.get(key, key) if lang == "zh" else key
