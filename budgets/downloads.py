"""HTTP edge of the exports: a streamed CSV or a constant-memory XLSX as a download."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime

from flask import Response, send_file

from budgets import exports
from budgets.actuals import build_report
from budgets.models import Budget


def export_response(budgets: list[Budget], fmt: str, name: str):
    as_of = datetime.now(UTC).replace(microsecond=0)
    report = build_report(budgets, as_of.date())
    frame = exports.export_frame(report, as_of)
    stamp = as_of.strftime("%Y%m%dT%H%M%SZ")
    filename = f"budget-vs-actual-{name}-{stamp}"
    if fmt == "xlsx":
        handle = tempfile.TemporaryFile()  # noqa: SIM115 - send_file closes it
        exports.write_xlsx(handle, frame, report)
        handle.seek(0)
        return send_file(
            handle,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            as_attachment=True,
            download_name=f"{filename}.xlsx",
        )
    return Response(
        exports.iter_csv(frame),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )
