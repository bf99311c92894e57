"""The report as one HTML file that opens offline: charts are SVG images inside it, no script, no fetch."""

from __future__ import annotations

import base64
import html
import io
from typing import Any, Dict, List, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BLUE, ORANGE, GREY = "#0b5cad", "#b34700", "#5f6368"
OUTCOME_LABELS = {
    "answered": "Answered",
    "did_you_mean": "Did you mean…? (topics suggested)",
    "not_covered": "Not covered by the sources",
    "fallback": "Not understood (fallback)",
}
ENDING_LABELS = {
    "thanks": "A thank-you",
    "goodbye": "A goodbye",
    "handoff": "A hand-off to an organisation",
    "silence_after_did_you_mean": "Silence after “did you mean…?”",
    "other": "Other (e.g. silence after an answer)",
}
TIER_LABELS = {
    "emergency": "Emergency",
    "crisis": "Crisis",
    "urgent": "Urgent (care team today)",
    "soon": "Soon (care team within days)",
}

plt.rcParams.update(
    {"svg.hashsalt": "jdm-report", "font.size": 10, "axes.spines.top": False, "axes.spines.right": False}
)


def _image(figure: Any, description: str) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img class="chart" src="data:image/svg+xml;base64,{encoded}" alt="{html.escape(description)}">'


def bar_chart(pairs: Sequence[Tuple[str, int]], description: str, color: str = BLUE) -> str:
    """Horizontal bars, largest on top, each labelled with its number."""
    if not pairs:
        return "<p>None in this period.</p>"
    labels = [label for label, _ in pairs][::-1]
    values = [value for _, value in pairs][::-1]
    figure, axes = plt.subplots(figsize=(7.5, 0.35 * len(pairs) + 0.6))
    bars = axes.barh(labels, values, color=color)
    axes.bar_label(bars, padding=3)
    axes.set_xlim(0, max(values) * 1.15 or 1)
    axes.xaxis.set_visible(False)
    axes.spines["bottom"].set_visible(False)
    return _image(figure, description)


def per_day_chart(days: List[Dict[str, Any]]) -> str:
    figure, axes = plt.subplots(figsize=(9, 3))
    dates = [day["date"][5:] for day in days]
    axes.bar(dates, [day["messages"] for day in days], color="#9cc3e6", label="Messages")
    axes.plot(
        dates, [day["conversations"] for day in days], color=ORANGE, marker="o", markersize=3, label="Conversations"
    )
    axes.legend(frameon=False, loc="upper left")
    step = max(1, len(dates) // 10)
    axes.set_xticks(range(0, len(dates), step))
    axes.set_xticklabels(dates[::step])
    total = sum(day["messages"] for day in days)
    busiest = max(days, key=lambda day: day["messages"]) if days else None
    description = f"Messages and conversations per day: {total} messages in all"
    if busiest and busiest["messages"]:
        description += f"; the busiest day was {busiest['date']} with {busiest['messages']} messages"
    return _image(figure, description)


def _table(caption: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in headers)
    body = (
        "".join("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
        or f'<tr><td colspan="{len(headers)}">None in this period.</td></tr>'
    )
    return (
        f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _percent(rate: Any) -> str:
    return "no questions" if rate is None else f"{rate * 100:.1f}%"


def _groups(unanswered: Dict[str, Any]) -> str:
    rows = []
    for group in unanswered["groups"]:
        wordings = "".join(
            f"<li>{html.escape(w['text'])} <span class=\"count\">({w['count']})</span></li>" for w in group["wordings"]
        )
        topic = html.escape(group["nearest_topic_title"]) if group["topic_is_close"] else "No topic is close"
        rows.append(
            f"<tr><td>{group['count']}</td><td><ul>{wordings}</ul></td>"
            f"<td>{topic} <span class=\"count\">({group['similarity']:.2f})</span></td></tr>"
        )
    body = "".join(rows) or '<tr><td colspan="3">No group of this size in this period.</td></tr>'
    notes = []
    if unanswered["groups_not_listed"]:
        notes.append(
            f"{unanswered['groups_not_listed']} smaller groups ({unanswered['questions_not_listed']} questions) are "
            "not listed (top_groups in data/report/settings.yml)."
        )
    notes.append(
        f"{unanswered['questions_in_small_groups']} questions in {unanswered['small_groups']} groups of fewer than "
        f"{unanswered['min_group_size']} are counted but not shown: a question asked once or twice may be "
        "about one family."
    )
    return (
        '<table class="groups"><caption>Questions not answered, near-duplicates grouped, most asked first</caption>'
        '<thead><tr><th scope="col">Asked</th><th scope="col">Wordings (most frequent, masked)</th>'
        '<th scope="col">Nearest topic (similarity)</th></tr></thead>'
        f"<tbody>{body}</tbody></table>" + "".join(f"<p>{html.escape(note)}</p>" for note in notes)
    )


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f1f1f;max-width:62rem;margin:0 auto;
padding:1rem 1.5rem 3rem;line-height:1.45}
h1{color:#0b5cad;margin-bottom:.2rem}h2{border-bottom:2px solid #0b5cad;padding-bottom:.2rem;margin-top:2rem}
.period{color:#444}.cards{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0;padding:0;list-style:none}
.cards li{border:1px solid #c8d3e0;border-radius:.5rem;padding:.6rem 1rem;min-width:9rem}
.cards strong{display:block;font-size:1.6rem;color:#0b5cad}
table{border-collapse:collapse;margin:.8rem 0;width:100%;table-layout:fixed}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td,caption{overflow-wrap:anywhere}
th,td{border-bottom:1px solid #d5d9de;text-align:left;padding:.35rem .5rem;vertical-align:top}
.groups th:first-child{width:4.5rem}.groups ul{margin:0;padding-left:1.1rem}.count{color:#555}
@media (max-width:30rem){body{padding:.5rem}.cards li{min-width:0;flex:1 1 8rem}}
img.chart{max-width:100%;height:auto;display:block;margin:.5rem 0}
.note{background:#f3f6fa;border-left:4px solid #0b5cad;padding:.6rem 1rem}
"""


def render(summary: Dict[str, Any], demo: bool = False) -> str:
    """The report page: summary cards, then one section per question a clinic asks of it."""
    answers, handoffs, totals = summary["answers"], summary["handoffs"], summary["totals"]
    period = summary["period"]
    outcome_pairs = [(OUTCOME_LABELS[key], answers[key]) for key in OUTCOME_LABELS]
    demo_note = (
        '<p class="note">These figures come from <strong>generated demo conversations</strong>, '
        "not from families.</p>"
        if demo
        else ""
    )
    sections = [
        f"<h1>What families asked</h1><p class=\"period\">The last {period['days']} days: "
        f"{html.escape(period['from'])} to {html.escape(period['to'])}.</p>{demo_note}",
        '<ul class="cards">'
        f"<li><strong>{totals['conversations']}</strong>conversations</li>"
        f"<li><strong>{totals['messages']}</strong>messages from families</li>"
        f"<li><strong>{_percent(answers['answer_rate'])}</strong>of {answers['questions']} questions answered</li>"
        f"<li><strong>{summary['unanswered']['questions']}</strong>questions not answered</li>"
        f"<li><strong>{handoffs['total']}</strong>hand-offs to organisations</li></ul>",
        "<h2>Conversations and messages per day</h2>" + per_day_chart(summary["per_day"]),
        "<h2>Answer rate</h2><p>A question counts as answered when the assistant gave a topic's answer; as not "
        "answered when it fell back, said the sources do not cover it, or asked “did you mean…?”.</p>"
        + bar_chart(outcome_pairs, "Questions by outcome: " + ", ".join(f"{k} {v}" for k, v in outcome_pairs)),
        "<h2>Questions the assistant could not answer</h2><p>Names, e-mail addresses, phone numbers, addresses, "
        "dates and hospital numbers are masked. Each group shows the FAQ topic it is nearest to: extend that "
        "answer, or add the wording as an example if it belongs there.</p>" + _groups(summary["unanswered"]),
        "<h2>Topics and terms asked most</h2>"
        + bar_chart(
            [(t["title"], t["count"]) for t in summary["topics"]],
            "Questions answered by topic: " + ", ".join(f"{t['title']} {t['count']}" for t in summary["topics"]),
        )
        + _table(
            "Medicines, tests and signs named",
            ["Term", "Kind", "Messages"],
            [(t["name"], t["kind"], t["count"]) for t in summary["terms"]],
        ),
        "<h2>Triage</h2><p>Messages that needed more than an answer, by tier (counts only).</p>"
        + _table(
            "Messages by triage tier",
            ["Tier", "Messages"],
            [(TIER_LABELS.get(tier, tier), count) for tier, count in summary["triage"].items()],
        ),
        "<h2>Hand-offs to support organisations</h2>"
        + _table(
            "Contact cards shown, by organisation",
            ["Organisation", "Hand-offs"],
            [(o["name"], o["count"]) for o in handoffs["by_organisation"]],
        )
        + _table(
            "Hand-offs by what the family needed",
            ["Need", "Hand-offs"],
            [(n["name"], n["count"]) for n in handoffs["by_need"]],
        ),
        "<h2>How conversations ended</h2>"
        + bar_chart(
            [(ENDING_LABELS[k], v) for k, v in summary["endings"].items()],
            "Conversations by how they ended: "
            + ", ".join(f"{ENDING_LABELS[k]} {v}" for k, v in summary["endings"].items()),
            GREY,
        ),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>What families asked: report</title><style>{STYLE}</style></head>"
        f"<body><main>{''.join(sections)}</main></body></html>\n"
    )
