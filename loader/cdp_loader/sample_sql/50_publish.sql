-- Copy the staged bulk tables into schema raw, after the showcase rows.

insert into raw.customers select * from g_raw_customers;
insert into raw.customer_identifiers select * from g_raw_customer_identifiers;
insert into raw.orders select * from g_raw_orders;
insert into raw.order_lines select * from g_raw_order_lines;
insert into raw.flight_segments select * from g_raw_flight_segments;
insert into raw.order_passengers select * from g_raw_order_passengers;
