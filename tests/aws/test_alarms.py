"""Alarms that wake someone (issue 14, trap 8): a lead failed for good, a growing backlog of
pending leads, 5xx answers, function errors and throttles, SES bounce and complaint rates.

moto's CloudFormation does not create CloudWatch alarms, so the alarms are checked for
shape (infra/resources.json, cfn-lint clean), and each metric the app writes is checked
against the alarm that watches it: the app writes CloudWatch embedded-metric-format lines
to standard output (chalicelib/metrics.py), no AWS call. What `provision` does for them,
the SNS topic and the ALERT_EMAILS subscriptions, runs against moto.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from admin.provision import alert_topic_arn, subscriptions
from chalicelib.metrics import NAMESPACE
from manage import main
from tests.conftest import REGION, post_json
from tests.data import BUYER

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = json.loads((ROOT / "infra" / "resources.json").read_text(encoding="utf-8"))
RESOURCES = TEMPLATE["Resources"]
ALARMS = {k: v["Properties"] for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
LEADS_TABLE = {"Name": "LeadsTable", "Value": {"Ref": "LeadsTable"}}


def alarm_on(metric: str, **dimension: Any) -> dict[str, Any]:
    found = [a for a in ALARMS.values() if a["MetricName"] == metric]
    if dimension:
        found = [a for a in found if a["Dimensions"][0]["Value"] == dimension["value"]]
    (alarm,) = found
    return alarm


def metric_lines(text: str) -> list[dict[str, Any]]:
    """The embedded-metric-format documents among the lines, checked as CloudWatch reads
    them: JSON from the line's start, _aws with a millisecond Timestamp, every metric named
    in CloudWatchMetrics present as a number, every dimension present as a string."""
    documents = []
    for line in text.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        document = json.loads(line)
        meta = document["_aws"]
        assert isinstance(meta["Timestamp"], int) and meta["Timestamp"] > 1_600_000_000_000
        for directive in meta["CloudWatchMetrics"]:
            for dimensions in directive["Dimensions"]:
                assert all(isinstance(document[name], str) for name in dimensions)
            for metric in directive["Metrics"]:
                assert isinstance(document[metric["Name"]], (int, float))
                assert metric["Unit"] in ("Count", "Seconds")
        documents.append(document)
    return documents


def watched(document: dict[str, Any], alarm: dict[str, Any]) -> bool:
    """Whether this metric line feeds the alarm: namespace, name and LeadsTable dimension."""
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    names = {m["Name"] for m in directive["Metrics"]}
    return (
        directive["Namespace"] == alarm["Namespace"]
        and alarm["MetricName"] in names
        and directive["Dimensions"] == [["LeadsTable"]]
        and alarm["Dimensions"] == [LEADS_TABLE]
    )


# ---- the alarms, as CloudFormation ----------------------------------------------------


def test_the_data_stack_with_its_alarms_passes_cfn_lint() -> None:
    from cfnlint.api import ManualArgs, lint

    text = (ROOT / "infra" / "resources.json").read_text(encoding="utf-8")
    matches = lint(text, config=ManualArgs(regions=[REGION]))
    assert [f"{m.rule.id}: {m.message}" for m in matches] == []


def test_every_alarm_notifies_the_alert_topic_when_it_fires_and_when_it_clears() -> None:
    assert RESOURCES["AlertTopic"]["Type"] == "AWS::SNS::Topic"
    assert TEMPLATE["Outputs"]["AlertTopicArn"] == {"Value": {"Ref": "AlertTopic"}}
    assert len(ALARMS) == 9
    for alarm in ALARMS.values():
        assert alarm["AlarmActions"] == [{"Ref": "AlertTopic"}]
        assert alarm["OKActions"] == [{"Ref": "AlertTopic"}]
        assert alarm["AlarmName"]["Fn::Sub"].startswith("vigor-leads-${Stage}-")
        assert len(alarm["AlarmDescription"]) > 40  # says what to do


def test_a_lead_failed_for_good_and_a_5xx_answer_alarm_at_the_first() -> None:
    for metric in ("NotificationsFailed", "ServerErrors"):
        alarm = alarm_on(metric)
        assert alarm["Namespace"] == NAMESPACE and alarm["Dimensions"] == [LEADS_TABLE]
        assert (alarm["Statistic"], alarm["Threshold"]) == ("Sum", 0)
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"  # no line: nothing happened


def test_the_backlog_alarms_past_30_minutes_and_when_the_sweep_stops_reporting() -> None:
    alarm = alarm_on("OldestPendingLeadAgeSeconds")
    assert (alarm["Statistic"], alarm["Threshold"]) == ("Maximum", 1800)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == "breaching"  # the sweep reports every 5 minutes
    assert alarm["Period"] == 300 and alarm["EvaluationPeriods"] == 2


def test_function_errors_and_throttles_of_both_functions_alarm() -> None:
    for metric in ("Errors", "Throttles"):
        for function in ("vigor-leads-${Stage}", "vigor-leads-${Stage}-retry_pending_leads"):
            alarm = alarm_on(metric, value={"Fn::Sub": function})
            assert alarm["Namespace"] == "AWS/Lambda"
            assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Fn::Sub": function}}]
            assert (alarm["Statistic"], alarm["Threshold"]) == ("Sum", 0)


def test_ses_bounce_and_complaint_rates_alarm_below_the_review_thresholds() -> None:
    # SES reviews an account at about 5 % bounces and 0.1 % complaints (docs/deploy.md).
    for metric, threshold, review in (
        ("Reputation.BounceRate", 0.04, 0.05),
        ("Reputation.ComplaintRate", 0.0008, 0.001),
    ):
        alarm = alarm_on(metric)
        assert alarm["Namespace"] == "AWS/SES"
        assert alarm["Dimensions"] == [
            {"Name": "ses:configuration-set", "Value": {"Ref": "MailConfigurationSet"}}
        ]
        assert alarm["Threshold"] == threshold < review
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    configuration_set = RESOURCES["MailConfigurationSet"]["Properties"]
    assert configuration_set["ReputationOptions"] == {"ReputationMetricsEnabled": True}


# ---- the metrics the app writes -------------------------------------------------------


def test_a_lead_failed_for_good_writes_the_metric_its_alarm_watches(
    make_client: Any, faults: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_client(MAX_NOTIFY_ATTEMPTS="1")
    faults.fail("sesv2.SendEmail", "reject")
    capsys.readouterr()
    assert post_json(api, BUYER).status_code == 201
    (document,) = metric_lines(capsys.readouterr().out)
    assert watched(document, alarm_on("NotificationsFailed"))
    assert document["NotificationsFailed"] == 1
    assert document["LeadsTable"] == api.runtime.settings.leads_table


def test_a_5xx_answer_writes_the_metric_its_alarm_watches_and_a_4xx_does_not(
    make_client: Any, faults: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_client()
    capsys.readouterr()
    assert api.http.get("/news?limit=0").status_code == 400
    assert post_json(api, BUYER).status_code == 201
    assert metric_lines(capsys.readouterr().out) == []
    faults.fail("dynamodb.*", "unreachable")
    faults.fail("sesv2.*", "unreachable")
    assert post_json(api, BUYER).status_code == 503
    (document,) = metric_lines(capsys.readouterr().out)
    assert watched(document, alarm_on("ServerErrors")) and document["ServerErrors"] == 1


def test_every_sweep_reports_the_backlog_its_alarm_watches(
    make_client: Any, faults: Any, clock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_client()

    def scheduled_sweep() -> dict[str, Any]:
        capsys.readouterr()
        api.lambda_.invoke("retry_pending_leads", api.events.generate_cw_event("", "", {}, []))
        (document,) = metric_lines(capsys.readouterr().out)
        assert watched(document, alarm_on("OldestPendingLeadAgeSeconds"))
        return document

    empty = scheduled_sweep()
    assert (empty["PendingLeads"], empty["OldestPendingLeadAgeSeconds"]) == (0, 0)
    faults.fail("sesv2.SendEmail", "throttle")
    post_json(api, BUYER)
    post_json(api, {**BUYER, "email": "second@example.com"})
    clock.advance(31 * 60)  # SES down for 31 minutes: the sweep has failed each retry
    backlog = scheduled_sweep()
    assert backlog["PendingLeads"] == 2
    assert (
        backlog["OldestPendingLeadAgeSeconds"]
        > alarm_on("OldestPendingLeadAgeSeconds")["Threshold"]
    )
    faults.heal()
    clock.advance(6 * 3600)
    cleared = scheduled_sweep()
    assert (cleared["PendingLeads"], cleared["OldestPendingLeadAgeSeconds"]) == (0, 0)


# ---- provision subscribes ALERT_EMAILS ------------------------------------------------


def test_provision_subscribes_alert_emails_to_the_alarms_topic_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from moto import mock_aws

    with mock_aws():
        for _ in range(2):  # running it again changes nothing
            assert main(["provision", "--stage", "dev"]) == 0
            assert "alarms: sales@vigorautomobile.com subscribed" in capsys.readouterr().out
        arn = alert_topic_arn(boto3.client("cloudformation", region_name=REGION), "dev")
        assert arn is not None and arn.endswith(":vigor-leads-dev-alerts")
        sns = boto3.client("sns", region_name=REGION)
        assert subscriptions(sns, arn) == {"sales@vigorautomobile.com": "confirmed"}
        (subscription,) = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        assert subscription["Protocol"] == "email"
