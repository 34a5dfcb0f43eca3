from django.core.checks import run_checks


def test_it_refuses_to_run_with_naive_local_times(settings):
    settings.USE_TZ = False
    errors = [e.id for e in run_checks()]
    assert "whistle.E001" in errors


def test_the_default_settings_pass_the_checks():
    assert not [e for e in run_checks() if (e.id or "").startswith("whistle.E")]


MANIFEST = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}


def test_it_warns_when_static_files_were_not_collected_without_debug_mode(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "staticfiles": MANIFEST}
    settings.STATIC_ROOT = tmp_path
    settings.DEBUG = False
    assert "whistle.W001" in [e.id for e in run_checks()]
    (tmp_path / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
    assert "whistle.W001" not in [e.id for e in run_checks()]


def test_debug_mode_needs_no_collected_static_files(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "staticfiles": MANIFEST}
    settings.STATIC_ROOT = tmp_path
    settings.DEBUG = True
    assert "whistle.W001" not in [e.id for e in run_checks()]
