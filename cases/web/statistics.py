"""Statistics for every role: aggregates of metadata, drawn as inline SVG."""
from __future__ import annotations

from flask import render_template, request

from cases import audit, charts
from cases.stats import compute
from cases.web import settings, signed_in, staff
from intake.services import taxonomy
from store.db import db_session

PERIODS = (3, 6, 12, 24)


@staff.get("/statistics")
def statistics() -> tuple[str, int]:
    months = request.args.get("months", type=int)
    months = months if months in PERIODS else 12
    db = db_session()
    figures = compute(db, settings().deadlines, months)
    audit.record(db, "statistics.viewed", actor=signed_in().member, months=months)
    db.commit()
    known = taxonomy()
    order = [slug for slug in known.primary_slugs if slug in figures.per_category]
    order += sorted(k for k in figures.per_category if k not in order)
    names = {slug: known.name(slug) if known.is_primary(slug) else (slug or "not yet classified") for slug in order}
    outcome_labels = list(figures.outcomes)
    chart = {
        "volume": charts.stacked_bar_chart("volume", "Cases received per month, by category", figures.months,
                                           {k: figures.per_category[k] for k in order}, names),
        "acknowledge": charts.bar_chart("acknowledge", "Time to acknowledge", figures.acknowledge.labels,
                                        figures.acknowledge.counts, charts.PALETTE[0]),
        "conclude": charts.bar_chart("conclude", "Time to conclude", figures.conclude.labels,
                                     figures.conclude.counts, charts.PALETTE[2]),
        "outcomes": charts.bar_chart("outcomes", "Outcomes of concluded cases", outcome_labels,
                                     [figures.outcomes[k] for k in outcome_labels], charts.PALETTE[3]),
    }
    return render_template("cases/statistics.html", figures=figures, chart=chart, names=names, order=order,
                           months=months, periods=PERIODS), 200
