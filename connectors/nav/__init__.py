"""NAV: the settlement report (K27 CSV), NAV's report API, and the municipality's own inputs
for refund offsetting (HR's refund claims, the employee register, bank credits)."""
