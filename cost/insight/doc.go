// Package insight reads a service's cost over time: is the latest cost anomalous,
// what will the month cost, how close is a budget, and what drove a change between
// two windows.
//
// Everything here is a pure function. The caller reads the hourly cost of each
// service back from Prometheus with a range query over stratus_service_cost_per_hour
// (summed by service, namespace and cluster) covering [Options.Lookback] before the
// evaluation time, and hands in the samples and the evaluation time. A step of one
// hour is enough and the cheapest: scoring six weeks of hourly samples takes about
// 0.1 ms, of five-minute samples about 2 ms. Nothing here reads a clock, a file or
// the network.
//
// # Samples
//
// A [Sample] is a time and a cost per hour in the configured currency. Samples may
// come in any order; a later sample with the same time replaces an earlier one, and
// samples after the evaluation time are ignored. A value that is NaN, infinite or
// negative is not a cost: in the history it is dropped, as if the sample were
// missing, and as the latest sample it makes the result inconclusive.
//
// # Inconclusive results
//
// No data, NaN and too little history are inconclusive, never a score of zero that
// would read as normal. An inconclusive [Anomaly], [Forecast] or [Budget] carries a
// [Reason]; its numbers mean nothing. The collector exposes no series for it: no
// stratus_cost_anomaly_score, stratus_cost_forecast_month_end or budget ratio for that
// service in that cycle. A rule that must tell "inconclusive" from "normal" compares
// with stratus_service_cost_per_hour, which is present whenever the service is
// priced.
//
// # Anomaly score
//
// [ScoreAnomaly] compares the latest sample x with a baseline b, the median of the
// values at the same point of a cycle in the past. The first baseline that the
// history supports is used:
//
//   - weekly: the same hour of the same weekday over the past Options.Weeks weeks
//     (default 4), when the history reaches back that far;
//   - daily: the same hour of day over the past Options.Days days (default 7);
//   - trailing: every sample in the past Options.TrailingWindow (default 24 h).
//
// The value at a past time is the sample nearest to it within Options.Tolerance
// (default 30 minutes). A seasonal baseline needs Options.MinReferences values
// (default 3, or as many as it has lags if fewer) and Options.MinResiduals past
// residuals (default 12) to measure its spread; otherwise the next one is tried.
// Less than Options.MinHistory (default 24 h) of history is inconclusive.
//
// The spread is relative. For every sample in the past Options.ScaleWindow (default
// 7 days) the baseline that would have been computed for it is computed too, and the
// spread ratio is 1.4826 times the median of |value − baseline| / baseline (over
// ScaleFloorPerHour where the baseline is smaller): the robust estimate of a
// standard deviation, as a fraction of the cost. (The trailing
// baseline uses the window's own samples and median, the usual median absolute
// deviation.) Relative, because cost noise grows with cost — more replicas, more
// usage — so a spread in currency pooled over a week would call every busy hour
// anomalous and miss a spike at night. The score is
//
//	score = (x − b) / (max(spread ratio, ScaleFloorRatio) × max(b, ScaleFloorPerHour))
//
// The floors keep a flat series finite: a series that never varies has a spread of
// zero, and its scale is ScaleFloorRatio (default 1 %) of the baseline, or of
// ScaleFloorPerHour (default 0.001 per hour) when the baseline is smaller, so a
// rise of 5 % on a flat series scores 5, not infinity.
//
// # Impact gate
//
// A score says how unusual a change is, not whether it matters. The change is
// material when |x − b| × 730 is more than Options.MinImpactPerMonth (default 50 in
// the currency) and |x − b| is more than Options.MinImpactRatio (default 20 %) of b.
// A rise from $0.01 to $0.04 per hour is 300 % but about $22 a month: not material.
// [Anomaly.GatedScore] is what stratus_cost_anomaly_score exposes: the score when
// material, 0 when not, and nothing when inconclusive. [Anomaly.Anomalous] adds
// |score| ≥ Options.Threshold (default 3.5) for callers that want a verdict; the
// generated alerting rules compare the exposed score with their own threshold.
//
// # Month-end forecast
//
// [ForecastMonthEnd] adds the spend so far in the calendar month of the evaluation
// time (UTC) to a forecast of the hours left.
//
// The spend is the integral of the cost per hour over time. Each sample's value
// holds until the next sample. A gap — an interval longer than twice the median
// interval of the series — is not free: it is charged at the mean of the values on
// either side, and its length is reported in Forecast.GapHours. From the latest
// sample to the evaluation time its value holds (the sample is at most
// Options.Staleness old). Before the first sample of the series nothing is charged:
// the service did not exist or was not measured, and Forecast.UnmeasuredHours says
// how long that was within the month.
//
// The forecast rate of an hour in the future is a level times a seasonal factor.
// With two weeks of history the factors are a weekly profile (hour of week, over up
// to Options.Weeks weeks) and the level the mean of the last week; with two days, a
// daily profile (hour of day, over up to Options.Days days) and the mean of the last
// day; otherwise the factor is 1 and the level the mean of the last
// Options.TrailingWindow. Hours are first averaged into hourly buckets, and a factor
// is the mean of its slot over the mean of all slots. The band is
// ±Options.BandSigmas (default 2) times σ·√(H + H²/n), where σ is the standard
// deviation of the last cycle's hourly buckets around the model, H the hours left
// and n the number of buckets behind the level: the noise of the hours left plus the
// error of the level. It assumes independent hours, so it is narrower than the truth
// when cost drifts; the low end is never below the spend so far.
//
// # Budgets
//
// [BudgetStatus] compares a budget for the calendar month with the spend so far and
// the forecast of one service, or of a team by summing the forecasts of its
// services. The budget is an amount for each calendar month, as cloud billing
// budgets are: it is not scaled by the month's length. The date the budget runs out
// assumes the mean forecast rate for the rest of the month.
//
// # What drove a change
//
// [CompareWindows] attributes the difference in cost between two windows to
// services, components, clouds and causes. A service with no cost before is new
// (all of its cost is the new-service effect) and one with no cost after is removed;
// a component or cloud that appears or disappears within a service that continues is
// added or removed. For every other line the cost is taken as a product of factors:
// replicas × size per replica × price per unit × the rest, where the rest (usage
// above requests, resources that ran for part of the window) is whatever the given
// factors do not explain. A factor that is unknown in either window is part of the
// rest.
//
// The split is the logarithmic mean Divisia index: the effect of a factor f is
// L(C₁, C₀) × ln(f₁ / f₀), where L(a, b) = (a − b) / (ln a − ln b) is the logarithmic
// mean of the costs before and after. Since the logarithms of the factors sum to the
// logarithm of the cost, the effects sum exactly to C₁ − C₀, with no interaction
// term left over, for any number of factors, and the answer does not depend on the
// order of the factors or on which window is called "before". (A midpoint
// Laspeyres–Paasche split is exact only for two factors.) The rest is computed as
// the difference minus the other effects, so that the parts sum to the difference in
// floating point too.
package insight
