-- A demo fleet: :count enabled endpoints served by the simulator at :sim, owned by a demo user.
-- Idempotent: ids are derived from the endpoint number.
INSERT INTO verdure_xiaozhi_mcp_endpoints
  ("Id", "Name", "Address", "UserId", "Description", "IsEnabled", "IsConnected", "CreatedAt", "UpdatedAt")
SELECT
  '00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'),
  'demo-' || i,
  :'sim' || '/mcp/?token=demo-token-' || i,
  'demo-user',
  'demo endpoint served by xiaozhi-sim',
  true, false, now(), now()
FROM generate_series(1, :count) AS i
ON CONFLICT ("Id") DO NOTHING;
