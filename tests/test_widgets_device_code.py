"""The "Sign in with ChatGPT" display, against the loopback fake of the auth server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

import takopi_nb as tk
from takopi_nb.widgets import DeviceCodeView, ProvidersPanel
from takopi_nb.widgets._device_code import format_countdown
from takopi_nb.widgets._provider_form import ProviderForm
from tests.fakes.codex_server import FakeAccount, FakeChatGPT
from tests.test_widgets_panel import all_widget_state
from tests.waiting import wait_for


@pytest.fixture
def fake() -> Iterator[FakeChatGPT]:
    server = FakeChatGPT(account=FakeAccount(email="ada@example.com", plan="pro")).start()
    yield server
    server.stop()


@pytest.fixture
def cfg(fake: FakeChatGPT) -> tk.TakopiConfig:
    config = tk.get_config()
    config.codex_issuer = fake.issuer
    return config


def test_sign_in_from_the_panel_through_to_connected(
    cfg: tk.TakopiConfig, fake: FakeChatGPT
) -> None:
    provider = cfg.add_provider("codex", id="chatgpt", base_url=fake.codex_base)
    panel = ProvidersPanel(cfg)
    try:
        form = panel.select("chatgpt")
        assert form.key_input is None and form.sign_in is not None
        assert "Not signed in" in form.auth_status.value
        assert panel.provider_list.label == "chatgpt · not signed in"
        assert form.disconnect is not None and form.disconnect.disabled

        assert form.sign_in.button_style == "primary" and not form.sign_in.disabled
        form.sign_in.click()
        view = form.device_view
        assert isinstance(view, DeviceCodeView)
        assert form.device_area.children == (view,)
        wait_for(lambda: view.state == "waiting")
        # Under way: the code below is the thing to act on, not another sign-in.
        assert form.sign_in.disabled and form.sign_in.button_style == ""
        assert "Cancel it there" in form.sign_in.tooltip
        code = form.flow.user_code
        assert code and code in view.code_html.value
        url = f"{fake.issuer}/codex/device"
        assert f'<a href="{url}" target="_blank"' in view.code_html.value
        assert "takopi-code" in view.code_html.value  # large, select-all code
        assert "expires in" in view.countdown_html.value
        assert "Waiting" in view.state_html.value
        assert view.cancel_row in view.children and not view.cancel_button.disabled

        fake.approve(code)
        wait_for(lambda: view.state == "signed_in")
        # The view re-renders on the flow's thread just after the state changes.
        wait_for(lambda: "Connected as ada@example.com (Pro)" in view.state_html.value)
        assert view.cancel_row not in view.children
        assert view.code_html not in view.children
        wait_for(lambda: provider.credential_source == "oauth")
        assert "Connected as" not in form.auth_status.value  # said once, by the view
        assert panel.provider_list.label == "chatgpt · signed in; no models selected"
        reopened = ProviderForm(tk.get_config(), provider)  # e.g. the panel shown again later
        assert "Connected as ada@example.com (Pro)" in reopened.auth_status.value
        reopened.close()
        assert panel.provider_list.label == "chatgpt · signed in; no models selected"
        assert not form.disconnect.disabled
        # The email is shown (a message to the browser) but is no widget state: a saved
        # notebook does not hold it.
        assert "ada@example.com" not in all_widget_state()
        # Signed in: "Reconnect" is no longer the main button, and a second flow asks first.
        wait_for(lambda: form.sign_in.description == "Reconnect")
        assert form.sign_in.button_style == "" and not form.sign_in.disabled
        assert form.sign_in.tooltip is None
        flow = form.flow
        form.sign_in.click()
        assert form.flow is flow and "Click “Reconnect” again" in form.auth_status.value

        # Signed in, the picker lists what the plan offers (the backend's visible models).
        plan = {"gpt-5.5", "gpt-5.4", "gpt-5.4-mini", "gpt-5.3-codex-spark"}
        wait_for(lambda: set(form.picker.visible_ids) == plan)
        assert "your ChatGPT plan" in form.picker.catalog_status.value

        form.disconnect.click()
        wait_for(lambda: "gpt-5.2" in form.picker.visible_ids)  # back to the catalog's Codex list
        assert provider.account is None
        assert "Disconnected" in form.auth_status.value
        assert panel.provider_list.label == "chatgpt · not signed in"
        assert form.device_view is None
        assert panel.errors == []
    finally:
        panel.close()


def test_a_cancelled_sign_in_offers_sign_in_again(cfg: tk.TakopiConfig, fake: FakeChatGPT) -> None:
    cfg.add_provider("codex", id="chatgpt", base_url=fake.codex_base)
    panel = ProvidersPanel(cfg)
    try:
        form = panel.select("chatgpt")
        assert form.sign_in is not None
        form.sign_in.click()
        view = form.device_view
        assert view is not None
        wait_for(lambda: view.state == "waiting")
        assert form.sign_in.disabled
        view.cancel_button.click()
        wait_for(lambda: not form.sign_in.disabled)
        assert form.sign_in.description == "Sign in with ChatGPT"
        assert form.sign_in.button_style == "primary" and form.sign_in.tooltip is None
        form.sign_in.click()  # a new code, as the first time
        second = form.device_view
        assert second is not None and second is not view
        wait_for(lambda: second.state == "waiting")
        assert form.sign_in.disabled
        assert panel.errors == []
    finally:
        panel.close()


@contextlib.contextmanager
def code_on_show(
    cfg: tk.TakopiConfig, fake: FakeChatGPT
) -> Iterator[tuple[tk.Provider, DeviceCodeView]]:
    """A new codex provider's sign-in, its view showing the code; the view is closed after."""
    provider = cfg.add_provider("codex", base_url=fake.codex_base)
    view = DeviceCodeView(provider.login())
    try:
        wait_for(lambda: view.state == "waiting")
        yield provider, view
    finally:
        view.close()


def test_countdown_is_live(cfg: tk.TakopiConfig, fake: FakeChatGPT) -> None:
    with code_on_show(cfg, fake) as (_, view):
        try:
            first = view.countdown_html.value
            assert "14:" in first or "15:00" in first
            wait_for(lambda: view.countdown_html.value != first)
            assert view.flow.seconds_left > 0
            assert format_countdown(view.flow.seconds_left) in view.countdown_html.value
        finally:
            view.flow.cancel()


def test_cancel(cfg: tk.TakopiConfig, fake: FakeChatGPT) -> None:
    with code_on_show(cfg, fake) as (provider, view):
        view.cancel_button.click()
        assert view.state == "cancelled"
        assert "cancelled" in view.state_html.value
        assert view.cancel_row not in view.children
        assert provider.account is None


def test_denied_and_errors_are_shown(cfg: tk.TakopiConfig, fake: FakeChatGPT) -> None:
    with code_on_show(cfg, fake) as (provider, view):
        fake.deny(view.flow.user_code)
        wait_for(lambda: view.state == "denied")
        assert "takopi-error" in view.state_html.value and "declined" in view.state_html.value
    cfg.codex_issuer = "http://127.0.0.1:9"  # nothing listens there
    broken = DeviceCodeView(provider.login())
    try:
        wait_for(lambda: broken.state == "error")
        assert "✗" in broken.state_html.value and "127.0.0.1:9" in broken.state_html.value
    finally:
        broken.close()


def test_closing_the_view_stops_following_the_flow(cfg: tk.TakopiConfig, fake: FakeChatGPT) -> None:
    provider = cfg.add_provider("codex", base_url=fake.codex_base)
    flow = provider.login()
    view = DeviceCodeView(flow)
    wait_for(lambda: view.state == "waiting")
    view.close()
    shown = view.state_html.value
    flow.cancel()
    assert view.state_html.value == shown


def test_a_sign_in_held_back_after_the_base_url_moved_is_confirmed_in_the_form(
    cfg: tk.TakopiConfig, fake: FakeChatGPT
) -> None:
    provider = cfg.add_provider("codex", id="chatgpt", base_url=fake.codex_base, models=["gpt-5.4"])
    cfg.add_provider("openai", id="work", api_key="sk-work-0123456789abcdef", models=["m"])
    flow = provider.login()
    wait_for(lambda: flow.state == "waiting")
    fake.approve(flow.user_code)
    assert flow.wait(timeout=30) == "signed_in"
    wait_for(lambda: provider.status.startswith("signed in"))
    panel = ProvidersPanel(cfg)
    try:
        other = panel.select("work")  # a form built by the same panel, with its own button
        form = panel.select("chatgpt")
        confirm = form.confirm_key
        assert confirm.description == "Use sign-in at new host"
        assert confirm in form.children and confirm.layout.display == "none"
        # Another origin (the same loopback server under another name): the tokens stay home.
        moved = fake.codex_base.replace("127.0.0.1", "localhost")
        form.base_url.set_state({"value": moved})
        assert provider.base_url == moved
        assert confirm.layout.display != "none" and other.confirm_key.layout.display == "none"
        assert "held back" in form.auth_status.value and "held back" in provider.status
        with pytest.raises(tk.MissingCredentialsError, match="Use sign-in at new host"):
            tk.resolve("chatgpt/gpt-5.4").headers()
        confirm.click()
        assert confirm.layout.display == "none"
        assert "held back" not in form.auth_status.value
        assert "held back" not in provider.status
        # Confirmed for the new host only: moving back asks again.
        form.base_url.set_state({"value": fake.codex_base})
        assert confirm.layout.display != "none"
    finally:
        panel.close()
