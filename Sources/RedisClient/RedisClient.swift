/// Redis client over hiredis.
