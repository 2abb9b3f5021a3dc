/** Whether the suite runs under CI (`CI` set to anything but '', '0' or 'false', as CI services do). */
export const onCI = ((v) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false')(process.env.CI);
