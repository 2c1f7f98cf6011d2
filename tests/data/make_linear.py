"""Write ``linear_survey.csv`` and the photos in ``linear_photos/`` (tests/test_survey_intake.py).

The survey is shaped like the county's sheets: two title rows above the Chinese header, 起点桩号
/止点桩号 for sections, a single 桩号 with 长度(m) for one, 照片 holding a relative path, a bare
photo number, a URL and a path to a photo that was never delivered. Its routes are those of
``tests/builders.py`` (X001 about 4.0 km, Y002 about 2.5 km with a gap near K1+050).
The photos are two small JPEGs drawn with Pillow (one stored sideways with an EXIF rotation).

    python tests/data/make_linear.py
"""

from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent

ROWS = [
    [
        "序号",
        "路线编码",
        "路线名称",
        "起点桩号",
        "止点桩号",
        "桩号",
        "长度(m)",
        "隐患类型",
        "隐患描述",
        "风险等级",
        "处置建议",
        "照片",
    ],
    [
        "1",
        "X001",
        "城关—南大膳",
        "K0+580",
        "K0+909",
        "",
        "",
        "临水临崖",
        "临水路段未设护栏，长约329米",
        "一级",
        "增设波形护栏",
        "linear_photos/IMG_0001.jpg",
    ],
    [
        "2",
        "X001",
        "城关—南大膳",
        "",
        "",
        "K1+500",
        "200",
        "急弯",
        "连续急弯无标线",
        "二级",
        "施划标线",
        "IMG_0002",
    ],
    [
        "3",
        "X001",
        "城关—南大膳",
        "K2+300",
        "K2+100",
        "",
        "",
        "陡坡",
        "长下坡无警示",
        "二级",
        "增设警告标志",
        "",
    ],
    [
        "4",
        "Y002",
        "草尾—新沙",
        "K0+700",
        "K1+400",
        "",
        "",
        "临水临崖",
        "沟渠边无护栏",
        "一级",
        "增设波形护栏",
        "",
    ],
    [
        "5",
        "X001",
        "城关—南大膳",
        "K3+900",
        "K4+500",
        "",
        "",
        "临水临崖",
        "止点超出路线",
        "二级",
        "增设波形护栏",
        "",
    ],
    [
        "6",
        "X001",
        "城关—南大膳",
        "",
        "",
        "K0+300",
        "",
        "视距不良",
        "弯道内侧树木遮挡",
        "三级",
        "清除遮挡",
        "https://example.org/photos/6.jpg",
    ],
    [
        "7",
        "X001",
        "城关—南大膳",
        "",
        "",
        "K3+000",
        "",
        "交叉口",
        "支路口无标志",
        "三级",
        "增设标志",
        "linear_photos/not_delivered.jpg",
    ],
]


def main() -> None:
    with (HERE / "linear_survey.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["沅江市农村公路安全隐患排查表（线状隐患）"] + [""] * 11)
        w.writerow(
            ["填报单位：某检测公司", "", "", "", "", "", "", "", "排查日期：2025年3月1日"]
            + [""] * 3
        )
        w.writerows(ROWS)
    photos = HERE / "linear_photos"
    photos.mkdir(exist_ok=True)
    for name, colour, rotate in (
        ("IMG_0001.jpg", (40, 110, 180), False),
        ("IMG_0002.JPG", (180, 90, 40), True),
    ):
        im = Image.new("RGB", (640, 480), colour)
        ImageDraw.Draw(im).rectangle((40, 40, 200, 120), fill=(255, 255, 255))
        exif = Image.Exif()
        if rotate:
            exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
        im.save(photos / name, "JPEG", quality=70, exif=exif.tobytes())


if __name__ == "__main__":
    main()
