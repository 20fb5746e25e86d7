// Placeholder: the layout of FlowRxState is defined by the lib/stats implementation.
#pragma once
