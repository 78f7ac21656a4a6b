"""The demo plant's physics without any server: profiles, energy balance, breakers, incidents."""

from __future__ import annotations

import datetime as dt
import math
import warnings

import pandas as pd
import pytest
from demandlib import bdew

from app.config import load_site
from drivers.sim.breaker import TripCause
from drivers.sim.electrical import transformer_losses
from drivers.sim.model import PlantModel
from drivers.sim.mqtt_env_sensor import EnvSensor
from drivers.sim.plant import DEMO_SIM
from drivers.sim.profiles import bdew_factor, outdoor_temperature, try_temperatures
from drivers.sim.simconfig import SimConfigError, load_sim_config
from resources import DEMO_SITE

# Wednesday 11 March 2026, 10:00 local, and the Sunday after
NOW = dt.datetime(2026, 3, 11, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()
SUNDAY = NOW + 4 * 86400


@pytest.fixture(scope="module")
def site():
    return load_site(DEMO_SITE)


@pytest.fixture
def model(site):
    return PlantModel(site, load_sim_config(DEMO_SIM), NOW)


def test_profile_is_demandlibs_bdew_g25():
    index = pd.date_range("2026-03-11 00:00", periods=96, freq="15min")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # demandlib's pandas inplace= calls
        series = bdew.G25(pd.date_range("2026-01-01", "2026-12-31 23:45", freq="15min"))
    peak = series.max()
    # the middle of the 10:00-10:15 interval is exactly the profile value
    assert bdew_factor("g25", dt.datetime(2026, 3, 11, 10, 7, 30)) == pytest.approx(
        series[index[40]] / peak, rel=1e-9)


def test_profile_weekday_weekend_shape_as_bdew_says():
    weekday = bdew_factor("g25", dt.datetime(2026, 3, 11, 10, 0))
    saturday = bdew_factor("g25", dt.datetime(2026, 3, 14, 10, 0))
    sunday = bdew_factor("g25", dt.datetime(2026, 3, 15, 10, 0))
    assert weekday > 1.5 * sunday          # commerce works on weekdays
    assert weekday > saturday > sunday
    night = bdew_factor("g25", dt.datetime(2026, 3, 11, 3, 0))
    assert night < 0.5 * weekday


def test_outdoor_temperature_is_the_try_year_interpolated():
    temps = try_temperatures(12)
    assert temps.shape == (8760,)
    # 1 January 01:00 is the first hourly value, 01:30 halfway to the second
    assert outdoor_temperature(12, dt.datetime(2026, 1, 1, 1, 0)) == pytest.approx(temps[0])
    assert outdoor_temperature(12, dt.datetime(2026, 1, 1, 1, 30)) == pytest.approx((temps[0] + temps[1]) / 2)
    july = outdoor_temperature(12, dt.datetime(2026, 7, 15, 15, 0))
    january = outdoor_temperature(12, dt.datetime(2026, 1, 15, 15, 0))
    assert july > january + 10


def test_office_feeder_follows_weekday_and_weekend(model):
    weekday = model.step(NOW, 0.0)["QF2_04"]["P"]
    sunday = model.step(SUNDAY, 1.0)["QF2_04"]["P"]
    assert weekday > 1.5 * sunday


def test_phase_values_are_coherent(model):
    out = model.step(NOW, 0.0)["PM1_05"]
    for ph in "abc":
        s = math.hypot(out[f"P{ph}"], out[f"P{ph}"] * math.tan(math.acos(out["PF"])))
        assert out[f"I{ph}"] == pytest.approx(1000 * s / out[f"U{ph}"], rel=0.02)
        assert 215 < out[f"U{ph}"] < 245
    assert out["P"] == pytest.approx(out["Pa"] + out["Pb"] + out["Pc"])
    assert len({round(out["Ia"], 1), round(out["Ib"], 1), round(out["Ic"], 1)}) == 3  # unbalanced
    assert out["Uab"] == pytest.approx(math.sqrt(3) * out["Ua"], rel=0.01)


def test_energy_balance_lv_and_hv(model, site):
    out = model.step(NOW, 0.0)
    for tr_node, bus in (("TR1", "BUS1"), ("TR2", "BUS2")):
        feeders = [f.breaker for f in model.feeders.values() if f.bus == bus]
        total = sum(out[b]["P"] for b in feeders)
        lv = out[site.node(tr_node).device]
        assert total < lv["P"] < total * 1.01  # LV busbar losses only
    r = site.node("TR1").ratings
    hv = out["HV_M"]["P"]
    expected = sum(
        out[d]["P"] + transformer_losses(out[d]["S"], r["Sn_kVA"], r["P0_kW"], r["Pk_kW"], r["i0_pct"],
                                         r["uk_pct"])[0]
        for d in ("T1_M", "T2_M"))
    assert hv == pytest.approx(expected, rel=1e-9)


def test_energy_registers_integrate_power(model):
    first = model.step(NOW, 0.0)["PM2_01"]
    second = model.step(NOW + 3600, 3600.0)["PM2_01"]
    assert second["Ep_imp"] - first["Ep_imp"] == pytest.approx(second["P"], rel=1e-9)
    assert second["Eq_imp"] > first["Eq_imp"]


def test_open_breaker_zeroes_downstream(model):
    model.breakers["QF1_05"].trip(TripCause.SHORT_CIRCUIT)
    out = model.step(NOW, 0.0)
    assert out["QF1_05"]["state"] == 0 and out["QF1_05"]["trip_cause"] == TripCause.SHORT_CIRCUIT
    assert out["QF1_05"]["P"] == 0 and out["QF1_05"]["Ia"] == 0
    assert 215 < out["QF1_05"]["Ua"] < 245  # line side stays live
    assert out["PM1_05"]["P"] == 0 and out["PM1_05"]["Ua"] == 0
    assert out["DM_UPS"]["P"] == 0 and out["DM_UPS"]["U"] == 0


def test_bus_tie_moves_bus2_to_transformer_1(model):
    before = model.step(NOW, 0.0)
    model.breakers["QF_TIE"].closed = True
    after = model.step(NOW, 1.0)
    assert after["T2_M"]["P"] == 0 and after["T2_M"]["Ua"] > 215
    bus2 = sum(after[f.breaker]["P"] for f in model.feeders.values() if f.bus == "BUS2")
    assert after["QF_TIE"]["P"] == pytest.approx(bus2)
    assert after["T1_M"]["P"] == pytest.approx(before["T1_M"]["P"] + before["T2_M"]["P"], rel=0.05)


def test_overload_trips_after_delay(model):
    model.trigger("overload", "QF1_02", {"factor": 1.3})
    out = model.step(NOW, 0.0)["QF1_02"]
    assert out["state"] == 1 and max(out["Ia"], out["Ib"], out["Ic"]) == pytest.approx(1.3 * 63)
    out = model.step(NOW, 1.5)["QF1_02"]
    assert out["state"] == 0 and out["trip_cause"] == TripCause.OVERLOAD and out["Ia"] == 0


def test_over_voltage_trips_and_self_recovers(model):
    model.trigger("over_voltage", "QF1_03", {"voltage_v": 280})
    assert model.step(NOW, 0.0)["QF1_03"]["trip_cause"] == TripCause.OVER_VOLTAGE
    model.clear("over_voltage", "QF1_03")
    assert model.step(NOW, 1.0)["QF1_03"]["state"] == 0
    recovery = model.sim.protection.recovery_s
    assert model.step(NOW, 1.0 + recovery + 0.1)["QF1_03"]["state"] == 1


def test_bad_incident_is_a_clear_error(model):
    with pytest.raises(ValueError, match="unknown incident 'fire'"):
        model.trigger("fire", "QF1_01", {})
    with pytest.raises(ValueError, match="applies to IoT breakers"):
        model.trigger("leakage", "PM1_05", {})
    with pytest.raises(ValueError, match="unknown device"):
        model.trigger("leakage", "QF9_99", {})


def test_bad_sim_file_names_file_and_field(tmp_path):
    bad = tmp_path / "bad.sim.yaml"
    bad.write_text("loads:\n  F1_01: {profile: g7, peak_kw: -1}\n", encoding="utf-8")
    with pytest.raises(SimConfigError) as err:
        load_sim_config(bad)
    text = str(err.value)
    assert f"{bad}: loads.F1_01.profile" in text and f"{bad}: loads.F1_01.peak_kw" in text


def _slow_protection_model(site):
    sim = load_sim_config(DEMO_SIM)
    sim = sim.model_copy(update={"protection": sim.protection.model_copy(update={"overload_trip_s": 1e6})})
    return PlantModel(site, sim, NOW)


@pytest.mark.parametrize("refresh_s", [0.5, 10.0])
def test_terminal_temperature_follows_current_with_its_time_constant_at_any_refresh(site, refresh_s):
    model = _slow_protection_model(site)
    tau = model.sim.protection.thermal_tau_s
    start = model.step(NOW, 0.0)["QF1_02"]
    t0 = start["temperature"]
    assert t0 == pytest.approx(28 + 45 * (max(start["Ia"], start["Ib"], start["Ic"]) / 63) ** 2)  # steady state
    model.trigger("overload", "QF1_02", {"factor": 1.4})
    target = 28 + 45 * 1.4 ** 2
    steps = round(300 / refresh_s)
    for k in range(1, steps + 1):
        out = model.step(NOW + k * refresh_s, k * refresh_s)["QF1_02"]
    assert out["state"] == 1
    assert out["temperature"] == pytest.approx(target + (t0 - target) * math.exp(-300 / tau), rel=1e-6)
    assert out["temperature"] < 90                       # 5 minutes at 1.4 In: still below the 90 °C trip


def test_noise_depends_on_time_not_on_the_number_of_steps(model):
    first = model.step(NOW, 10.0)
    again = model.step(NOW, 10.0)                         # an extra refresh at the same instant
    assert again["QF1_02"]["P"] == first["QF1_02"]["P"]
    assert again["HV_M"]["F"] == first["HV_M"]["F"]
    later = model.step(NOW, 70.0)
    assert later["QF1_02"]["P"] != first["QF1_02"]["P"]


@pytest.mark.parametrize("step_s", [0.1, 10.0])
def test_room_co2_lags_with_its_air_exchange_time_constant_at_any_publishing_interval(step_s):
    sensor = EnvSensor("127.0.0.1", 1, step_s=step_s)           # never started: state() is pure physics
    office_10h = dt.datetime(2026, 3, 11, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()
    target = 450.0 + 700.0 * (1.0 - sensor.ventilation / 120.0)
    for k in range(round(900 / step_s) + 1):
        payload = sensor.state(office_10h + k * step_s)
    assert sensor.co2 == pytest.approx(target + (600.0 - target) * math.exp(-900 / sensor.co2_tau_s), rel=1e-9)
    assert payload["co2"] == round(sensor.co2)
