from django.core.checks import run_checks


def test_it_refuses_to_run_with_naive_local_times(settings):
    settings.USE_TZ = False
    errors = [e.id for e in run_checks()]
    assert "whistle.E001" in errors


def test_the_default_settings_pass_the_checks():
    assert not [e for e in run_checks() if (e.id or "").startswith("whistle.E")]
