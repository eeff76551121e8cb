#include "jd_workloop.h"

dispatch_queue_t jd_workloop_create(const char *label, int32_t qos, int32_t relpri) {
    dispatch_queue_t workloop;
    if (qos == 0) {
        workloop = dispatch_workloop_create(label);
    } else {
        workloop = dispatch_workloop_create_inactive(label);
        if (workloop == NULL) {
            return NULL;
        }
        dispatch_workloop_set_qos_class_floor(workloop, (dispatch_qos_class_t)qos, relpri, 0);
        dispatch_activate(workloop);
    }
    if (workloop != NULL) {
        dispatch_queue_set_specific(workloop, workloop, workloop, NULL);
    }
    return workloop;
}

int32_t jd_workloop_qos_class(dispatch_queue_t workloop, int32_t *relpri) {
    int rel = 0;
    dispatch_qos_class_t qos = dispatch_queue_get_qos_class(workloop, &rel);
    *relpri = rel;
    return (int32_t)qos;
}
