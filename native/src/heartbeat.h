/*
 * The heartbeat thread (heartbeat.c): heartbeatStart, heartbeatWake and heartbeatStop of the addon.
 */
#ifndef DRANSPOSE_HEARTBEAT_H
#define DRANSPOSE_HEARTBEAT_H

#include <node_api.h>

napi_value heartbeat_start_js(napi_env env, napi_callback_info info);
napi_value heartbeat_stop_js(napi_env env, napi_callback_info info);
napi_value heartbeat_wake_js(napi_env env, napi_callback_info info);

#endif
