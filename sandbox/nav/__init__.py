"""Stand-in for NAV's settlement-report API (oppgjørsrapporter) and the Altinn inbox that
carries the same reports as messages. See docs/nav-sandbox.md."""
