-- every row of future_appointments is an appointment that is neither canceled nor removed
select future.tenant_id, future.appointment_id
from {{ ref('future_appointments') }} as future
inner join {{ ref('stg_acuity__appointments') }} as appointments
    on appointments.tenant_id = future.tenant_id
    and appointments.appointment_id = future.appointment_id
where appointments.is_canceled or appointments.is_removed
