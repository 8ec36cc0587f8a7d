"""`cherish clv`: lifetime-value models fitted on a transactions file and applied to one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from cherish.cli.common import err, friendly, parse_date
from cherish.cli.text import plural
from cherish.errors import InvalidInput

app = typer.Typer(help="Lifetime-value models (BG/NBD, Pareto/NBD, MBG/NBD, Gamma-Gamma) on transactions.",
                  no_args_is_help=True)
TRANSACTIONS_HELP = "CSV, whitespace-separated .txt (columns 1, 2, … without a header) or Parquet."
CUSTOMER_HELP = "The column that names the customer."
DATE_HELP = "The column with the purchase's day or time."
FORMAT_HELP = "strftime format of the dates, e.g. %Y%m%d."


def _outputs(output: list[Path], json_out: Path | None,
             predictions: Path | None) -> tuple[Path | None, Path | None]:
    """Where `clv fit` writes the fit and the predictions: --output by the file's suffix, or the older spellings."""
    for path in output:
        suffix = path.suffix.lower()
        if suffix not in (".json", ".csv"):
            raise InvalidInput(f"--output {path}: end the name in .json (the fit) or .csv (one row per customer)")
        older, flag = (json_out, "--json") if suffix == ".json" else (predictions, "--predictions")
        if older is not None and older != path:
            raise InvalidInput(f"--output {path} and {flag} {older} both ask for the same output: give one")
        if suffix == ".json":
            json_out = path
        else:
            predictions = path
    return json_out, predictions


@app.command("fit")
@friendly
def fit(
    transactions: Path = typer.Argument(..., metavar="FILE", help=TRANSACTIONS_HELP),
    customer_column: str = typer.Option(..., "--customer-column", metavar="COLUMN", help=CUSTOMER_HELP),
    date_column: str = typer.Option(..., "--date-column", metavar="COLUMN", help=DATE_HELP),
    amount_column: str | None = typer.Option(None, "--amount-column", metavar="COLUMN",
                                             help="The column with the amount; also fits the Gamma-Gamma spend model."),
    calibration_end: str = typer.Option(..., "--calibration-end", metavar="DATE",
                                        help="Last day (inclusive) of the calibration period."),
    holdout_end: str | None = typer.Option(None, "--holdout-end", metavar="DATE",
                                           help="Compare predictions with the holdout up to this day."),
    period: str = typer.Option("week", "--period", metavar="PERIOD", help="day, or week (days/7)."),
    date_format: str | None = typer.Option(None, "--date-format", metavar="FORMAT", help=FORMAT_HELP),
    model: str = typer.Option("auto", "--model", metavar="MODEL",
                              help="auto (MBG/NBD or Pareto/NBD, whichever predicts the holdout better, or fits "
                                   "better without one), mbgnbd, pareto, or bgnbd (P(alive) 1 for every one-time "
                                   "buyer: it lets customers drop out only after a repeat purchase)."),
    output: list[Path] = typer.Option([], "--output", "-o", metavar="FILE",
                                      help="FILE.json: the fit (reusable by `clv predict`); FILE.csv: one row per "
                                           "customer. Repeatable."),
    json_out: Path | None = typer.Option(None, "--json", metavar="FILE", help="Older spelling of --output FILE.json."),
    predictions: Path | None = typer.Option(None, "--predictions", metavar="FILE",
                                            help="Older spelling of --output FILE.csv."),
) -> None:
    """Fit a lifetime-value model on transactions (same-day purchases merged) and print its parameters."""
    from cherish.analytics.clv import GammaGamma, calibration_and_holdout
    from cherish.analytics.clv.io import summary_from_file, write_predictions
    from cherish.analytics.clv.select import choose_for_summary, model_named

    json_out, predictions = _outputs(output, json_out, predictions)
    cal_end, hold_end = parse_date(calibration_end, "--calibration-end"), parse_date(holdout_end, "--holdout-end")
    if model != "auto":
        model_named(model)
    summary = summary_from_file(transactions, customer=customer_column, when=date_column, amount=amount_column,
                                date_format=date_format, calibration_end=cal_end, holdout_end=hold_end, period=period)
    choice, fitted = choose_for_summary(summary) if model == "auto" else (None, None)
    if choice is not None:
        model = choice["model"]
        err.print(f"chose {model}: {choice['reason']}")
    if fitted is None:  # (without a holdout, choosing fitted the winner on this very summary)
        fitted = model_named(model)().fit(summary.frequency, summary.recency, summary.T)
    result: dict[str, Any] = {
        "model": model, "choice": choice, "params": fitted.params_, "log_likelihood": fitted.log_likelihood_,
        "standard_errors": fitted.standard_errors_, "customers": int(len(summary.frequency)),
        "period": period, "calibration_end": cal_end.isoformat(),
    }
    err.print(f"{model} on {plural(len(summary.frequency), 'customer')} ({int((summary.frequency > 0).sum())} with "
              f"repeat purchases), {period}s, calibration through {cal_end}")
    print("  " + "  ".join(f"{k}={v:.6g}" for k, v in fitted.params_.items())
          + f"  log-likelihood={fitted.log_likelihood_:.2f}")
    spend = None
    if amount_column:
        repeat = summary.frequency > 0
        if not repeat.any():
            raise InvalidInput("no customer has a repeat purchase: the spend model cannot be fitted")
        spend = GammaGamma().fit(summary.frequency[repeat], summary.monetary_value[repeat])
        result["spend"] = {"model": "gamma_gamma", "params": spend.params_, "log_likelihood": spend.log_likelihood_,
                           "customers": int(repeat.sum())}
        print("  gamma-gamma: " + "  ".join(f"{k}={v:.6g}" for k, v in spend.params_.items())
              + f"  log-likelihood={spend.log_likelihood_:.2f}")
    if hold_end is not None:
        result["holdout"] = calibration_and_holdout(fitted, summary)
        result["holdout_end"] = hold_end.isoformat()
        print(f"  holdout through {hold_end}: predicted {result['holdout']['predicted']:.1f} repeat purchases, "
              f"actual {result['holdout']['actual']:.0f}")
    if json_out:
        json_out.write_text(json.dumps(result, indent=2) + "\n")
    if predictions:
        horizon = summary.holdout_length if summary.holdout_length else (52.0 if period == "week" else 365.0)
        write_predictions(predictions, summary, fitted, horizon, spend)
        err.print(f"predictions for {plural(len(summary.frequency), 'customer')} in {predictions}")


@app.command("predict")
@friendly
def predict(
    transactions: Path = typer.Argument(..., metavar="FILE", help=TRANSACTIONS_HELP),
    fit_file: Path = typer.Option(..., "--fit", metavar="FILE", help="JSON written by `cherish clv fit -o FILE.json`."),
    customer_column: str = typer.Option(..., "--customer-column", metavar="COLUMN", help=CUSTOMER_HELP),
    date_column: str = typer.Option(..., "--date-column", metavar="COLUMN", help=DATE_HELP),
    amount_column: str | None = typer.Option(None, "--amount-column", metavar="COLUMN",
                                             help="The column with the amount; adds the expected value per customer "
                                                  "when the fit has a spend model."),
    as_of: str = typer.Option(..., "--as-of", metavar="DATE",
                              help="Last day (inclusive) of the history to predict from."),
    horizon: float = typer.Option(52.0, "--horizon", metavar="PERIODS", help="How many periods ahead to predict."),
    date_format: str | None = typer.Option(None, "--date-format", metavar="FORMAT", help=FORMAT_HELP),
    output: Path = typer.Option(..., "--output", "-o", metavar="FILE",
                                help="Where to write one row per customer (CSV)."),
) -> None:
    """Apply a saved fit to (new) transactions: P(alive) and expected purchases per customer."""
    from cherish.analytics.clv import GammaGamma
    from cherish.analytics.clv.io import summary_from_file, write_predictions
    from cherish.analytics.clv.select import model_named

    try:
        saved = json.loads(fit_file.read_text())
        model_class, params = model_named(saved["model"]), saved["params"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"{fit_file} is not a fit written by `cherish clv fit -o FILE.json` ({exc})") from None
    fitted = model_class.from_params(params)
    day = parse_date(as_of, "--as-of")
    summary = summary_from_file(transactions, customer=customer_column, when=date_column, amount=amount_column,
                                date_format=date_format, calibration_end=day, holdout_end=None,
                                period=saved.get("period", "week"))
    spend = GammaGamma.from_params(saved["spend"]["params"]) if amount_column and "spend" in saved else None
    write_predictions(output, summary, fitted, horizon, spend)
    err.print(f"predictions for {plural(len(summary.frequency), 'customer')} in {output}")
